"""Fixtures for the MCP gateway tests: real peer MCP servers and an agenthost with a temp mcp_config.json.

One agenthost (package scope) runs with a config file naming stdio peers (tests/peers/peer_server.py),
an entry whose command does not exist and an entry that does not validate; SSE and streamable-HTTP
peers run on 127.0.0.1 and are added through the API by the tests.
"""

from __future__ import annotations

import subprocess
import sys
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from tests.conftest import test_database_uri
from tests.host.mcp.mcp_gateway import EMBEDDING, PEER_SERVER, SECRET, Gateway, start_gateway, stdio_entry
from tests.support.scripted_llm import ScriptedLLM
from tests.support.server import free_port
from tests.support.waiting import wait_until


@pytest.fixture(scope="package")
def remote_peers() -> Iterator[dict[str, str]]:
    """peer_server.py over SSE and streamable HTTP on 127.0.0.1: {"sse": url, "http": url}."""
    procs: list[subprocess.Popen[str]] = []
    urls: dict[str, str] = {}
    try:
        for transport, path in (("sse", "/sse"), ("http", "/mcp")):  # start both, then wait for both
            port = free_port()
            procs.append(subprocess.Popen(
                [sys.executable, str(PEER_SERVER), "--transport", transport, "--port", str(port)],
                stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True))
            urls[transport] = f"http://127.0.0.1:{port}{path}"
        for proc, transport in zip(procs, urls, strict=False):
            assert proc.stdout is not None
            line = proc.stdout.readline()  # blocks until "READY <port>" (or EOF if the peer died)
            assert line.startswith("READY"), f"{transport} peer did not start: {line!r}"
        yield urls
    finally:
        for proc in procs:
            proc.terminate()
            proc.wait(timeout=10)


@pytest.fixture(scope="package")
def gw(scripted_llm: ScriptedLLM, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Gateway]:
    home = tmp_path_factory.mktemp("mcp-gateway")
    config = {"mcpServers": {
        "peer": stdio_entry(env={"API_TOKEN": SECRET}, timeout=2),
        "twin": stdio_entry(env={"PEER_EVENT_LOG": str(home / "twin-events.log")}),
        "missing": {"command": str(home / "no-such-binary")},
        "malformed": {"url": "ftp://example.invalid/mcp"},
    }}
    gateway = start_gateway(scripted_llm, home, config, pg_uri=test_database_uri())
    try:
        # The stdio peers are Python processes: on a busy machine they take a while to start. Tests begin
        # once both answer, so the API's own bounded wait for a connecting server is not what they measure.
        for name in ("peer", "twin"):
            wait_until(lambda name=name: gateway.status(name)["state"] == "ready", timeout=90, what=f"{name} to be ready")
        yield gateway
    finally:
        gateway.close()


@pytest.fixture
def unique() -> Callable[[str], str]:
    token = uuid.uuid4().hex[:8]
    return lambda prefix: f"{prefix}_{token}"


@pytest.fixture
def make_agent(gw: Gateway, unique: Callable[[str], str]) -> Iterator[Callable[..., tuple[Any, str]]]:
    """An agent on its own scripted model queue: returns (agent, model name)."""
    created: list[str] = []

    def make(tool_ids: list[str] | None = None) -> tuple[Any, str]:
        model = f"mcp-model-{uuid.uuid4().hex[:8]}"
        agent = gw.client.agents.create(
            name=unique("mcp-agent"), model=f"openai-proxy/{model}", embedding=EMBEDDING, tool_ids=tool_ids or [],
            memory_blocks=[{"label": "human", "value": "Ada"}, {"label": "persona", "value": "Helpful."}],
        )
        created.append(agent.id)
        return agent, model

    yield make
    for agent_id in created:
        gw.http.delete(f"/v1/agents/{agent_id}")
