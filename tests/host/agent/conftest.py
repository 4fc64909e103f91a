"""Fixtures for the agent-loop tests: the real letta-client SDK, raw httpx, and one scripted model per test.

Each test gets its own model name (``openai-proxy/<name>``) so that its scripted replies and recorded
requests never mix with another test's on the shared session server.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from letta_client import Letta

from tests.support.scripted_llm import ScriptedLLM, ScriptQueue
from tests.support.server import ServerProcess

EMBEDDING = "openai/text-embedding-3-small"


@pytest.fixture(scope="session")
def client(server: ServerProcess) -> Letta:
    return Letta(base_url=server.base_url, timeout=60)


@dataclass
class Model:
    """One test's scripted model: push replies on ``script``, read what the agent sent in ``requests``."""

    name: str
    llm: ScriptedLLM
    script: ScriptQueue

    @property
    def handle(self) -> str:
        return f"openai-proxy/{self.name}"

    @property
    def requests(self) -> list[dict[str, Any]]:
        return self.llm.requests_for(self.name)

    def offered(self, i: int) -> list[str]:
        """The names of the tools offered to the model in its i-th request."""
        return sorted(t["function"]["name"] for t in self.requests[i].get("tools") or [])

    def system(self, i: int) -> str:
        return self.requests[i]["messages"][0]["content"]


@pytest.fixture
def model(scripted_llm: ScriptedLLM) -> Model:
    name = f"loop-{uuid.uuid4().hex[:10]}"
    return Model(name=name, llm=scripted_llm, script=scripted_llm.for_model(name))


@pytest.fixture
def make_agent(http: httpx.Client, model: Model) -> Iterator[Callable[..., dict[str, Any]]]:
    """Create agents over REST on this test's model; each is deleted after the test."""
    created: list[str] = []

    def make(**body: Any) -> dict[str, Any]:
        body.setdefault("model", model.handle)
        body.setdefault("embedding", EMBEDDING)
        body.setdefault("memory_blocks", [{"label": "human", "value": "Name: Ada"},
                                          {"label": "persona", "value": "A careful assistant."}])
        resp = http.post("/v1/agents/", json=body)
        assert resp.status_code == 200, resp.text
        agent = resp.json()
        created.append(agent["id"])
        return agent

    yield make
    for agent_id in created:
        http.delete(f"/v1/agents/{agent_id}")


def send(http: httpx.Client, agent_id: str, text: str = "hello", **body: Any) -> httpx.Response:
    return http.post(f"/v1/agents/{agent_id}/messages", json={"messages": [{"role": "user", "content": text}], **body})


def history(http: httpx.Client, agent_id: str, **params: Any) -> list[dict[str, Any]]:
    resp = http.get(f"/v1/agents/{agent_id}/messages", params={"limit": 1000, **params})
    assert resp.status_code == 200, resp.text
    return resp.json()


def sse_events(text: str) -> list[tuple[str | None, Any]]:
    """(event name, decoded data) per SSE event; data ``[DONE]`` stays a string."""
    events = []
    for block in text.split("\n\n"):
        if not block.strip():
            continue
        event = None
        data = []
        for line in block.split("\n"):
            if line.startswith("event: "):
                event = line[len("event: "):]
            elif line.startswith("data: "):
                data.append(line[len("data: "):])
        payload = "\n".join(data)
        events.append((event, payload if payload == "[DONE]" else json.loads(payload)))
    return events
