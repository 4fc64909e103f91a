"""The config watcher applies edits to a running pool without a restart."""

from __future__ import annotations

import json
import sys

import anyio
import pytest

from mcp_client import McpConfig, McpPool
from mcp_client.config_file import ConfigWatcher
from tests.mcp_client.mcp_peers import FAST, PEER_SERVER
from tests.support.waiting import wait_until_async

pytestmark = pytest.mark.anyio


def _document(*names: str, **extra: dict) -> str:
    servers = {name: {"command": "${PY}", "args": [str(PEER_SERVER)], **extra.get(name, {})} for name in names}
    return json.dumps({"mcpServers": servers})


async def test_config_file_edit_is_picked_up_by_the_watcher(tmp_path) -> None:
    path = tmp_path / "mcp_config.json"
    path.write_text(_document("one"))
    environ = {"PY": sys.executable}
    async with McpPool(settings=FAST) as pool:
        await pool.watch_config(path, environ, interval_s=0.05)
        assert (await pool.wait_ready("one", 15)).state == "ready"

        path.write_text(_document("one", "two", two={"disabledTools": ["crash"]}))
        await wait_until_async(lambda: "two" in {s.name for s in pool.states()})
        assert (await pool.wait_ready("two", 15)).state == "ready"
        assert "crash" not in {t.name for t in pool.list_tools("two")}

        path.write_text("{ half written")  # a broken file leaves the running servers alone
        path.write_text(_document("two", two={"disabledTools": ["crash"]}))
        await wait_until_async(lambda: {s.name for s in pool.states()} == {"two"})


async def test_watcher_reports_file_errors_to_the_callback(tmp_path) -> None:
    path = tmp_path / "mcp_config.json"
    seen: list[McpConfig] = []
    changed = anyio.Event()

    async def on_change(config: McpConfig) -> None:
        seen.append(config)
        changed.set()

    async with anyio.create_task_group() as tg:
        await tg.start(ConfigWatcher(path, on_change, {}, interval_s=0.05).run)
        assert "file not found" in seen[0].error
        changed = anyio.Event()
        path.write_text("[1, 2]")
        with anyio.fail_after(5):
            await changed.wait()
        assert "JSON object" in seen[-1].error
        tg.cancel_scope.cancel()
