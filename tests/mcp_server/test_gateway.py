"""The tool gateway on `/mcp`: a connected MCP server's tools through agenthost, and agent-scoped tool rules."""

from __future__ import annotations

import anyio
import httpx
import pytest
from mcp import Client

from tests.mcp_server.conftest import text_of
from tests.support.server import ServerProcess

pytestmark = pytest.mark.anyio


def _tool(name: str) -> str:
    return f'''
def {name}(note: str) -> str:
    """Record a step.

    Args:
        note: what to record
    """
    return "{name}: " + note
'''


async def _tool_names(client: Client) -> set[str]:
    return {t.name for t in (await client.list_tools()).tools}


async def test_gateway_calls_a_connected_mcp_servers_tool(peer_server: ServerProcess) -> None:
    srv = peer_server
    with anyio.fail_after(30):
        async with Client(srv.base_url + "/mcp", mode="legacy") as client:
            while "mcp__peer__echo" not in await _tool_names(client):  # the pool connects in the background
                await anyio.sleep(0.1)
            echoed = await client.call_tool("mcp__peer__echo", {"text": "through agenthost"})
            assert not echoed.is_error and "through agenthost" in text_of(echoed)
            failed = await client.call_tool("mcp__peer__fail", {})
            assert failed.is_error


async def test_scoped_connection_follows_the_agents_tool_rules(server: ServerProcess) -> None:
    with httpx.Client(base_url=server.base_url, timeout=30) as http:
        for name in ("gw_first_step", "gw_second_step"):
            http.put("/v1/tools/", json={"source_code": _tool(name)}).raise_for_status()
        agent = http.post("/v1/agents/", json={
            "name": "gw-scoped", "model": "openai-proxy/gw-scoped", "include_base_tools": False,
            "tools": ["gw_first_step", "gw_second_step"],
            "tool_rules": [{"type": "run_first", "tool_name": "gw_first_step"},
                           {"type": "exit_loop", "tool_name": "gw_second_step"}]}).json()
    with anyio.fail_after(30):
        async with Client(f"{server.base_url}/mcp?agent_id={agent['id']}", mode="legacy") as client:
            names = await _tool_names(client)
            assert {"custom__gw_first_step", "custom__gw_second_step"} <= names
            assert not any(n.startswith("mcp__") for n in names)
            early = await client.call_tool("custom__gw_second_step", {"note": "too soon"})
            assert early.is_error and "gw_first_step" in text_of(early)
            first = await client.call_tool("custom__gw_first_step", {"note": "a"})
            assert not first.is_error and "gw_first_step: a" in text_of(first)
            second = await client.call_tool("custom__gw_second_step", {"note": "b"})
            assert not second.is_error and "end the sequence" in text_of(second)
            again = await client.call_tool("custom__gw_second_step", {"note": "c"})  # a new sequence: first again
            assert again.is_error
