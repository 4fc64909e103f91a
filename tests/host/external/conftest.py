"""A server wired to loopback fakes of Tavily, E2B and Composio (the real SDKs talk to them).

``external`` starts the three fakes and one ``agenthost serve`` whose environment points at them,
once for this directory. The session ``server`` (no keys at all) covers the "not configured" paths.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from anyio.from_thread import start_blocking_portal

from tests.host.external.helpers import COMPOSIO_KEY, E2B_KEY, EMBEDDING, TAVILY_KEY
from tests.support.fake_composio import FakeComposio
from tests.support.fake_e2b import FakeE2BState, running_fake_e2b
from tests.support.fake_tavily import FakeTavily
from tests.support.scripted_llm import ScriptedLLM, ScriptQueue
from tests.support.server import ServerProcess, fresh_pg_database, server_env


@dataclass
class External:
    server: ServerProcess
    http: httpx.Client
    tavily: FakeTavily
    e2b: FakeE2BState
    composio: FakeComposio


@pytest.fixture(scope="package")
def external(scripted_llm: ScriptedLLM, tmp_path_factory: pytest.TempPathFactory) -> Iterator[External]:
    home: Path = tmp_path_factory.mktemp("agenthost-external")
    admin = os.environ.get("AGENTHOST_TEST_PG_URI")
    with FakeTavily(api_key=TAVILY_KEY) as tavily, FakeComposio(api_key=COMPOSIO_KEY) as composio, \
            start_blocking_portal() as portal, portal.wrap_async_context_manager(running_fake_e2b()) as e2b:
        env = server_env(home, scripted_llm.base_url, pg_uri=fresh_pg_database(admin) if admin else None, extra={
            "TAVILY_API_KEY": TAVILY_KEY, "TAVILY_API_BASE": tavily.url,
            "E2B_API_KEY": E2B_KEY, "E2B_API_URL": e2b.url, "E2B_SANDBOX_URL": e2b.url,
            "COMPOSIO_API_KEY": COMPOSIO_KEY, "COMPOSIO_BASE_URL": composio.url,
        })
        with ServerProcess(home=home, env=env) as proc, httpx.Client(base_url=proc.base_url, timeout=60) as http:
            yield External(server=proc, http=http, tavily=tavily, e2b=e2b, composio=composio)


@pytest.fixture(scope="package")
def plain_http(server: ServerProcess) -> Iterator[httpx.Client]:
    """The session server: no TAVILY/E2B/COMPOSIO keys in its environment."""
    with httpx.Client(base_url=server.base_url, timeout=60) as c:
        yield c


@pytest.fixture
def make_agent(scripted_llm: ScriptedLLM) -> Callable[..., tuple[str, ScriptQueue]]:
    """Create an agent with its own scripted model on ``http``; returns (agent id, its script)."""

    def make(http: httpx.Client, **body: Any) -> tuple[str, ScriptQueue]:
        model = f"ext-{uuid.uuid4().hex[:10]}"
        script = scripted_llm.for_model(model)
        resp = http.post("/v1/agents", json={"name": model, "model": f"openai-proxy/{model}", "embedding": EMBEDDING,
                                             "include_base_tools": False, **body})
        assert resp.status_code == 200, resp.text
        return resp.json()["id"], script

    return make
