"""Interop with the npm reference server `@modelcontextprotocol/server-everything` (pinned in
tests/peers/package.json). It speaks a handshake-era revision, so these tests also cover the
SDK's fallback from `server/discover` to `initialize`."""

from __future__ import annotations

import os
import shutil
import subprocess

import anyio
import psutil
import pytest
from anyio.streams.text import TextReceiveStream

from mcp_client import McpPool, McpServerConfig
from tests.mcp_client.mcp_peers import EVERYTHING_JS, FAST, PEERS, free_port

pytestmark = [
    pytest.mark.anyio,
    pytest.mark.skipif(
        not EVERYTHING_JS.exists(),
        reason="tests/peers/node_modules is absent: run `npm ci` in tests/peers to install server-everything",
    ),
    pytest.mark.skipif(shutil.which("node") is None, reason="node is not on PATH"),
]


async def test_stdio_everything_negotiates_a_legacy_revision_and_calls_tools(monkeypatch) -> None:
    monkeypatch.setenv("AGENTHOST_SECRET_NOT_FOR_CHILDREN", "leak")
    config = McpServerConfig(
        name="everything", transport="stdio", command="node", args=[str(EVERYTHING_JS), "stdio"], env={"MINE": "1"}
    )
    async with McpPool([config], settings=FAST) as pool:
        status = await pool.wait_ready("everything", 30)
        assert status.state == "ready", status.last_error
        assert status.protocol_version is not None and status.protocol_version < "2026-07-28"
        names = {tool.name for tool in pool.list_tools("everything")}
        assert {"echo", "get-sum", "get-tiny-image"} <= names
        assert (await pool.call_tool("everything", "echo", {"message": "hi"})).text == "Echo: hi"
        assert "7" in (await pool.call_tool("everything", "get-sum", {"a": 3, "b": 4})).text
        image = await pool.call_tool("everything", "get-tiny-image", {})
        assert "[image: image/png," in image.text and len(image.text) < 500
        env_text = (await pool.call_tool("everything", "get-env", {})).text
        assert '"MINE": "1"' in env_text and "AGENTHOST_SECRET_NOT_FOR_CHILDREN" not in env_text


async def test_streamable_http_everything_bound_to_loopback() -> None:
    port = free_port()
    env = {**os.environ, "PORT": str(port), "NODE_OPTIONS": f"--require {PEERS / 'loopback.cjs'}"}
    process = await anyio.open_process(
        ["node", str(EVERYTHING_JS), "streamableHttp"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    try:
        assert process.stderr is not None
        with anyio.fail_after(20):
            seen = ""
            async for chunk in TextReceiveStream(process.stderr):
                seen += chunk
                if "listening on port" in seen.lower():
                    break
        addresses = {c.laddr.ip for c in psutil.Process(process.pid).net_connections() if c.status == "LISTEN"}
        assert addresses == {"127.0.0.1"}
        config = McpServerConfig.model_validate(
            {"name": "everything-http", "type": "streamableHttp", "url": f"http://127.0.0.1:{port}/mcp"}
        )
        async with McpPool([config], settings=FAST) as pool:
            status = await pool.wait_ready("everything-http", 20)
            assert status.state == "ready", status.last_error
            assert (await pool.call_tool("everything-http", "echo", {"message": "hi"})).text == "Echo: hi"
    finally:
        with anyio.CancelScope(shield=True):
            process.terminate()
            with anyio.move_on_after(5):
                await process.wait()
            if process.returncode is None:
                process.kill()
            await process.aclose()
