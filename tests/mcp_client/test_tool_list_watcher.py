"""ToolListWatcher against real stdio peers: tools arriving, re-listed on list_changed, and leaving."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import aclosing

import anyio
import pytest

from mcp_client import McpPool, ToolListChange, ToolListWatcher
from tests.mcp_client.mcp_peers import FAST, stdio_peer

pytestmark = pytest.mark.anyio


async def _next(changes: AsyncIterator[ToolListChange], wanted: str) -> ToolListChange:
    """The next change naming server `wanted` (a restart may first report other servers)."""
    with anyio.fail_after(30):
        async for change in changes:
            if wanted in change.servers:
                return change
    raise AssertionError("the watcher stopped")


async def test_watcher_reports_arrival_reshape_and_removal() -> None:
    async with McpPool(settings=FAST) as pool, aclosing(ToolListWatcher(pool).changes()) as changes:
        await pool.add_server(stdio_peer("shaper"))
        arrived = await _next(changes, "shaper")
        add = next(t for t in arrived.ready["shaper"] if t.name == "add")
        assert "c" not in add.input_schema["properties"]

        assert (await pool.call_tool("shaper", "reshape", {})).text == "reshaped"
        reshaped = await _next(changes, "shaper")
        add = next(t for t in reshaped.ready["shaper"] if t.name == "add")
        assert add.input_schema["properties"]["c"] == {"type": "number"}
        assert add.description == "Add two or three numbers."

        await pool.add_server(stdio_peer("other"))
        other = await _next(changes, "other")
        assert other.servers == {"other"}, "a server arriving does not report the others as changed"

        await pool.remove_server("shaper")
        gone = await _next(changes, "shaper")
        assert "shaper" not in gone.ready
