"""Fixtures for multi-agent tests: agents with their own scripted model each, on the session server."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest

from tests.host.multi_agent.helpers import Agent
from tests.support.scripted_llm import ScriptedLLM

EMBEDDING = "openai/text-embedding-3-small"


@pytest.fixture
def token() -> str:
    return uuid.uuid4().hex[:8]


@pytest.fixture
def make_agent(http: httpx.Client, scripted_llm: ScriptedLLM, token: str) -> Iterator[Callable[..., Agent]]:
    """An agent whose model replies come from its own scripted queue; deleted after the test."""
    created: list[str] = []

    def make(label: str, **body: Any) -> Agent:
        model = f"{label}-{token}"
        script = scripted_llm.for_model(model)
        body.setdefault("memory_blocks", [{"label": "persona", "value": f"I am {label}."}])
        resp = http.post("/v1/agents", json={"name": model, "model": f"openai-proxy/{model}",
                                             "embedding": EMBEDDING, **body})
        assert resp.status_code == 200, resp.text
        created.append(resp.json()["id"])
        return Agent(id=resp.json()["id"], name=model, model=model, script=script)

    yield make
    for agent_id in created:
        http.delete(f"/v1/agents/{agent_id}")
