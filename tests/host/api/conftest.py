"""Fixtures for the REST foundation tests: the real letta-client SDK and raw httpx against one server."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest
from letta_client import Letta

from tests.support.server import ServerProcess


@pytest.fixture(scope="session")
def client(server: ServerProcess) -> Letta:
    return Letta(base_url=server.base_url, timeout=30)


@pytest.fixture(scope="session")
def http(server: ServerProcess) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server.base_url, timeout=30, follow_redirects=False) as c:
        yield c


@pytest.fixture(scope="session")
def llm_handle(client: Letta) -> str:
    """A chat model served by the scripted LLM (listed through OPENAI_API_BASE)."""
    handles = [m.handle for m in client.models.list() if m.handle and "embedding" not in m.handle]
    assert handles, "the scripted LLM lists no chat models"
    return next((h for h in handles if h.endswith("gpt-4o-mini")), handles[0])


@pytest.fixture(scope="session")
def embedding_handle(client: Letta) -> str:
    handles = [m.handle for m in client.embedding_models.list() if m.handle]
    assert handles, "no embedding model is listed"
    return handles[0]


@pytest.fixture
def unique() -> Callable[[str], str]:
    """Names that never collide across tests sharing the session server."""
    token = uuid.uuid4().hex[:8]
    return lambda prefix: f"{prefix}_{token}"


@pytest.fixture
def make_agent(client: Letta, http: httpx.Client, llm_handle: str,
               embedding_handle: str) -> Iterator[Callable[..., Any]]:
    """Create agents through the SDK with sensible defaults; each is deleted after the test."""
    created: list[str] = []

    def make(**kwargs: Any) -> Any:
        kwargs.setdefault("model", llm_handle)
        kwargs.setdefault("embedding", embedding_handle)
        kwargs.setdefault("memory_blocks", [{"label": "human", "value": "Name: Ada"},
                                            {"label": "persona", "value": "A careful assistant."}])
        agent = client.agents.create(**kwargs)
        created.append(agent.id)
        return agent

    yield make
    for agent_id in created:
        resp = http.delete(f"/v1/agents/{agent_id}")
        assert resp.status_code in (200, 404), resp.text
