"""`agenthost mcp --url` offers the same tools as the server's `/mcp` (read from it), calls them there, and
passes on `tools/list_changed`; checked with the real MCP SDK client over stdio and over HTTP."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import anyio
import httpx
import mcp_types as types
import pytest
from mcp import Client

from tests.mcp_server.conftest import stdio_params, text_of
from tests.mcp_server.test_tools_list_changed import Notices
from tests.support.server import ServerProcess
from tests.support.waiting import wait_until_async

pytestmark = pytest.mark.anyio

SHOUT = '''
def bridge_shout(text: str) -> str:
    """Shout the text.

    Args:
        text: what to shout
    """
    return text.upper() + "!"
'''


def _catalogue(tools: list[types.Tool]) -> dict[str, tuple[str | None, dict[str, Any]]]:
    return {t.name: (t.description, t.input_schema) for t in tools}


async def _http_tools(url: str) -> list[types.Tool]:
    async with Client(url, mode="legacy", cache=None) as client:
        return (await client.list_tools()).tools


async def test_the_bridge_lists_and_calls_what_mcp_serves(peer_server: ServerProcess, tmp_path: Path) -> None:
    srv = peer_server
    with httpx.Client(base_url=srv.base_url, timeout=30) as http:
        http.put("/v1/tools/", json={"source_code": SHOUT}).raise_for_status()
        agent = http.post("/v1/agents/", json={"name": "bridge-scoped", "model": "openai-proxy/bridge-scoped",
                                               "include_base_tools": False, "tools": ["bridge_shout"]})
        agent_id = agent.raise_for_status().json()["id"]
    with anyio.fail_after(120):
        served = await _http_tools(srv.base_url + "/mcp")
        while "mcp__peer__echo" not in _catalogue(served):  # the peer connects in the background
            await anyio.sleep(0.1)
            served = await _http_tools(srv.base_url + "/mcp")
        assert "custom__bridge_shout" in _catalogue(served)

        notices = Notices()
        params = stdio_params(tmp_path / "bridge-home", None, "--url", srv.base_url)
        async with Client(params, mode="legacy", message_handler=notices, cache=None) as bridge:
            tools_cap = bridge.server_capabilities.tools
            assert tools_cap is not None and tools_cap.list_changed
            assert _catalogue((await bridge.list_tools()).tools) == _catalogue(served)

            echoed = await bridge.call_tool("mcp__peer__echo", {"text": "over the bridge"})
            assert not echoed.is_error and "over the bridge" in text_of(echoed)
            shouted = await bridge.call_tool("custom__bridge_shout", {"text": "hey"})
            assert not shouted.is_error and "HEY!" in text_of(shouted)
            failed = await bridge.call_tool("mcp__peer__fail", {})
            assert failed.is_error and "boom" in text_of(failed)

            before = notices.count
            assert not (await bridge.call_tool("mcp__peer__reshape", {})).is_error
            await wait_until_async(lambda: notices.count > before, timeout=60,
                                   what="the bridge passing on tools/list_changed")
            add = next(t for t in (await bridge.list_tools()).tools if t.name == "mcp__peer__add")
            assert "c" in add.input_schema["properties"]
            assert _catalogue((await bridge.list_tools()).tools) == _catalogue(
                await _http_tools(srv.base_url + "/mcp"))

        scoped_params = stdio_params(tmp_path / "bridge-home", None, "--url", srv.base_url, "--agent", agent_id)
        async with Client(scoped_params, mode="legacy", cache=None) as scoped:
            listed = _catalogue((await scoped.list_tools()).tools)
            assert listed == _catalogue(await _http_tools(f"{srv.base_url}/mcp?agent_id={agent_id}"))
            assert "custom__bridge_shout" in listed and not any(n.startswith("mcp__") for n in listed)
