"""McpPool against SSE and streamable-HTTP peer servers on 127.0.0.1."""

from __future__ import annotations

import pytest

from mcp_client import McpPool, McpServerConfig, test_server
from tests.mcp_client.mcp_peers import FAST, free_port, remote_peer
from tests.support.waiting import wait_until_async

pytestmark = pytest.mark.anyio


@pytest.mark.parametrize("transport", ["sse", "http"])
async def test_remote_server_calls_and_list_changed(transport: str) -> None:
    async with remote_peer(transport) as (url, _process):
        config = McpServerConfig.model_validate({"name": "remote", "url": url, "headers": {"X-Test": "1"}})
        assert config.transport == ("sse" if transport == "sse" else "streamable_http")
        async with McpPool([config], settings=FAST) as pool:
            status = await pool.wait_ready("remote", 15)
            assert status.state == "ready", status.last_error
            assert (await pool.call_tool("remote", "echo", {"text": "over the wire"})).text == "over the wire"
            timed_out = await pool.call_tool("remote", "sleep", {"seconds": 30}, timeout_s=0.3)
            assert timed_out.status == "error" and "timed out" in timed_out.text
            assert (await pool.call_tool("remote", "grow", {})).text == "grown"
            await wait_until_async(lambda: "grown" in {t.name for t in pool.list_tools("remote")})


@pytest.mark.parametrize("transport", ["sse", "http"])
async def test_remote_server_that_goes_away_and_comes_back_is_reconnected(transport: str) -> None:
    port = free_port()
    async with remote_peer(transport, port) as (url, process):
        config = McpServerConfig.model_validate({"name": "flaky", "url": url})
        async with McpPool([config], settings=FAST) as pool:
            assert (await pool.wait_ready("flaky", 15)).state == "ready"
            process.kill()
            await process.wait()
            await wait_until_async(lambda: pool.status("flaky").state != "ready")
            down = await pool.call_tool("flaky", "echo", {"text": "x"}, timeout_s=1)
            assert down.status == "error" and "'flaky'" in down.text
            async with remote_peer(transport, port):
                status = await pool.wait_ready("flaky", 15)
                assert status.state == "ready", status.last_error
                assert (await pool.call_tool("flaky", "echo", {"text": "back"})).text == "back"


async def test_test_server_lists_tools_or_explains_the_failure() -> None:
    async with remote_peer("http") as (url, _process):
        ok, tools = await test_server(McpServerConfig.model_validate({"name": "t", "url": url}), timeout_s=10)
        assert ok is True and "echo" in {tool.name for tool in tools}
    ok, error = await test_server(McpServerConfig.model_validate({"name": "t", "url": f"http://127.0.0.1:{free_port()}/mcp"}), timeout_s=3)
    assert ok is False and isinstance(error, str) and error
