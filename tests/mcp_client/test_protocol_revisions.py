"""The pool works with servers on every protocol revision from 2025-03-26 to 2026-07-28."""

from __future__ import annotations

import sys

import pytest

from mcp_client import McpPool, McpServerConfig
from tests.mcp_client.mcp_peers import FAST, PEERS, stdio_peer

pytestmark = pytest.mark.anyio


@pytest.mark.parametrize("revision", ["2025-03-26", "2025-06-18", "2025-11-25"])
async def test_a_server_that_only_speaks_an_older_revision_is_used_through_initialize(revision: str) -> None:
    cfg = McpServerConfig(name="legacy", transport="stdio", command=sys.executable,
                          args=[str(PEERS / "legacy_server.py"), revision])
    async with McpPool([cfg], settings=FAST) as pool:
        status = await pool.wait_ready("legacy", 15)
        assert status.state == "ready", status.last_error
        assert status.protocol_version == revision
        result = await pool.call_tool("legacy", "echo", {"text": "hi"})
        assert (result.status, result.text) == ("success", f"{revision}: hi")


async def test_a_current_server_negotiates_the_newest_revision() -> None:
    async with McpPool([stdio_peer("peer")], settings=FAST) as pool:
        status = await pool.wait_ready("peer", 15)
        assert status.state == "ready", status.last_error
        assert status.protocol_version == "2026-07-28"
