"""McpPool against real stdio peer servers (tests/peers/peer_server.py)."""

from __future__ import annotations

import json
import sys

import anyio
import psutil
import pytest

from mcp_client import McpConfigEntry, McpPool, McpServerConfig, ServerStatus, parse_config
from tests.mcp_client.mcp_peers import FAST, PEER_SERVER, stdio_peer
from tests.support.waiting import wait_until_async

pytestmark = pytest.mark.anyio


async def test_calls_render_text_errors_images_structured_and_resources() -> None:
    async with McpPool([stdio_peer("peer")], settings=FAST) as pool:
        status = await pool.wait_ready("peer", 15)
        assert status.state == "ready", status.last_error
        assert status.pid is not None and status.protocol_version

        echo = await pool.call_tool("peer", "echo", {"text": "hello"})
        assert (echo.status, echo.text) == ("success", "hello")
        assert echo.duration_ms > 0
        assert (await pool.call_tool("peer", "add", {"a": 2, "b": 3})).text == "5"

        failed = await pool.call_tool("peer", "fail", {})
        assert failed.status == "error" and "boom" in failed.text

        image = await pool.call_tool("peer", "image", {})
        assert image.status == "success"
        assert "[image: image/png, 70 bytes]" in image.text
        assert "iVBOR" not in image.text

        structured = await pool.call_tool("peer", "structured", {})
        assert json.loads(structured.text) == {"temperature": 21.5, "unit": "C"}
        assert structured.structured == {"temperature": 21.5, "unit": "C"}

        resource = await pool.call_tool("peer", "resource", {})
        assert "[resource: file:///notes.txt, text/plain]" in resource.text
        assert "[resource link: big.bin <file:///big.bin>, application/octet-stream]" in resource.text

        unknown = await pool.call_tool("peer", "no_such_tool", {})
        assert unknown.status == "error" and "'no_such_tool'" in unknown.text and "'peer'" in unknown.text


async def test_tool_listing_follows_pagination_cursor() -> None:
    config = stdio_peer("many", "--extra-tools", "120", "--page-size", "25")
    async with McpPool([config], settings=FAST) as pool:
        assert (await pool.wait_ready("many", 15)).state == "ready"
        names = {tool.name for tool in pool.list_tools("many")}
        assert len(names) == 131  # 11 base tools and 120 extra ones
        assert {"echo", "extra_000", "extra_119"} <= names


async def test_hung_tool_times_out_and_is_cancelled_on_the_server(tmp_path) -> None:
    log = tmp_path / "cancel.log"
    config = stdio_peer("slow", env={"PEER_EVENT_LOG": str(log)}, timeout_s=30)
    async with McpPool([config], settings=FAST) as pool:
        assert (await pool.wait_ready("slow", 15)).state == "ready"
        result = await pool.call_tool("slow", "sleep", {"seconds": 60}, timeout_s=0.5)
        assert result.status == "error"
        assert "timed out after 0.5s" in result.text and "'sleep'" in result.text and "'slow'" in result.text
        await wait_until_async(lambda: log.exists() and "cancelled" in log.read_text())

        # A caller cancelling its own call also cancels the request on the server.
        log.unlink()
        with anyio.move_on_after(0.5):
            await pool.call_tool("slow", "sleep", {"seconds": 60})
        await wait_until_async(lambda: log.exists() and "cancelled" in log.read_text())
        assert (await pool.call_tool("slow", "echo", {"text": "still fine"})).text == "still fine"


async def test_killed_stdio_server_gives_clear_error_then_restarts(tmp_path) -> None:
    log = tmp_path / "events.log"
    async with McpPool([stdio_peer("victim", env={"PEER_EVENT_LOG": str(log)})], settings=FAST) as pool:
        first = await pool.wait_ready("victim", 15)
        assert first.state == "ready"
        old_pid = first.pid

        async with anyio.create_task_group() as tg:
            in_flight: list = []

            async def hang() -> None:
                in_flight.append(await pool.call_tool("victim", "sleep", {"seconds": 60}))

            tg.start_soon(hang)
            await wait_until_async(lambda: log.exists() and "started" in log.read_text())
            psutil.Process(old_pid).kill()
        assert in_flight[0].status == "error"
        assert "connection to the server was lost" in in_flight[0].text

        await wait_until_async(lambda: pool.status("victim").attempts >= 2)
        status = await pool.wait_ready("victim", 15)
        assert status.state == "ready" and status.pid != old_pid
        assert "went away" in (status.last_error or "") or "lost" in (status.last_error or "")
        assert (await pool.call_tool("victim", "echo", {"text": "back"})).text == "back"


async def test_crash_tool_call_is_an_error_and_the_next_call_succeeds() -> None:
    async with McpPool([stdio_peer("crashy")], settings=FAST) as pool:
        assert (await pool.wait_ready("crashy", 15)).state == "ready"
        crashed = await pool.call_tool("crashy", "crash", {})
        assert crashed.status == "error" and "'crash'" in crashed.text
        # The next call waits out the restart (state "connecting") within its own timeout.
        await wait_until_async(lambda: pool.status("crashy").state != "ready")
        again = await pool.call_tool("crashy", "echo", {"text": "ok"}, timeout_s=15)
        assert (again.status, again.text) == ("success", "ok")


async def test_bad_command_is_in_error_state_and_retried_with_backoff() -> None:
    seen: list[ServerStatus] = []
    bad = McpServerConfig(name="ghost", transport="stdio", command="/nonexistent/mcp-server")
    async with McpPool([bad, stdio_peer("good")], settings=FAST, on_status=seen.append) as pool:
        assert (await pool.wait_ready("good", 15)).state == "ready"
        await wait_until_async(lambda: pool.status("ghost").attempts >= 4)
        status = pool.status("ghost")
        assert status.state in ("error", "connecting")
        assert "command not found" in (status.last_error or "") and "/nonexistent/mcp-server" in status.last_error
        delays = [s.retry_in_s for s in seen if s.name == "ghost" and s.state == "error"]
        assert delays[:4] == [0.05, 0.1, 0.2, 0.4]  # doubling, capped at backoff_max_s
        result = await pool.call_tool("ghost", "echo", {"text": "x"})
        assert result.status == "error" and "not ready" in result.text and "command not found" in result.text
        assert (await pool.call_tool("good", "echo", {"text": "y"})).text == "y"


async def test_server_that_exits_at_start_reports_its_stderr() -> None:
    script = "import sys; sys.stderr.write('missing API key\\n'); sys.exit(2)"
    config = McpServerConfig(name="dies", transport="stdio", command=sys.executable, args=["-c", script])
    async with McpPool([config], settings=FAST) as pool:
        await wait_until_async(lambda: pool.status("dies").state == "error")
        error = pool.status("dies").last_error or ""
        assert "missing API key" in error and "code 2" in error


async def test_bad_config_entries_are_error_states_and_others_work() -> None:
    document = {
        "mcpServers": {
            "good": {"command": sys.executable, "args": [str(PEER_SERVER)]},
            "nocmd": {"args": ["x"]},
            "badargs": {"command": "x", "args": "not-a-list"},
            "badtype": {"type": "carrier-pigeon", "url": "http://127.0.0.1:1/mcp"},
        }
    }
    config = parse_config(document, environ={})
    async with McpPool(config.entries, settings=FAST) as pool:
        assert (await pool.wait_ready("good", 15)).state == "ready"
        states = {s.name: s for s in pool.states()}
        assert states["nocmd"].state == "error" and "command" in states["nocmd"].last_error
        assert states["badargs"].state == "error" and "mcpServers.badargs.args" in states["badargs"].last_error
        assert states["badtype"].state == "error" and "carrier-pigeon" in states["badtype"].last_error
        assert (await pool.call_tool("good", "add", {"a": 1, "b": 1})).text == "2"


async def test_two_servers_with_the_same_tool_names_are_both_callable() -> None:
    async with McpPool([stdio_peer("alpha"), stdio_peer("beta", allowed_tools=["echo", "pid"])], settings=FAST) as pool:
        assert (await pool.wait_ready("alpha", 15)).state == "ready"
        assert (await pool.wait_ready("beta", 15)).state == "ready"
        tools = {t.agent_name: t for t in pool.list_tools()}
        assert {"alpha__echo", "beta__echo", "alpha__pid", "beta__pid"} <= set(tools)
        assert "add" in tools and tools["add"].server == "alpha"  # unique across servers keeps its name
        assert len(tools) == len(pool.list_tools())
        pids = set()
        for agent_name in ("alpha__pid", "beta__pid"):
            tool = pool.find_tool(agent_name)
            assert tool is not None
            pids.add((await pool.call_tool(tool.server, tool.name, {})).text)
        assert len(pids) == 2
        blocked = await pool.call_tool("beta", "add", {"a": 1, "b": 2})
        assert blocked.status == "error" and "disabled" in blocked.text


async def test_list_changed_refreshes_the_catalogue() -> None:
    async with McpPool([stdio_peer("growing")], settings=FAST) as pool:
        assert (await pool.wait_ready("growing", 15)).state == "ready"
        assert "grown" not in {t.name for t in pool.list_tools("growing")}
        assert (await pool.call_tool("growing", "grow", {})).text == "grown"
        await wait_until_async(lambda: "grown" in {t.name for t in pool.list_tools("growing")})
        assert (await pool.call_tool("growing", "grown", {})).text == "grown"


async def test_apply_config_diffs_and_disabled_servers_stay_down() -> None:
    async with McpPool([stdio_peer("keep"), stdio_peer("drop")], settings=FAST) as pool:
        keep = await pool.wait_ready("keep", 15)
        assert (await pool.wait_ready("drop", 15)).state == "ready"
        drop_pid = pool.status("drop").pid
        await pool.apply_config([stdio_peer("keep"), stdio_peer("off", disabled=True)])
        assert {s.name for s in pool.states()} == {"keep", "off"}
        assert pool.status("keep").pid == keep.pid  # unchanged entry was not restarted
        assert pool.status("off").state == "disabled"
        assert not psutil.pid_exists(drop_pid) or psutil.Process(drop_pid).status() == psutil.STATUS_ZOMBIE


async def test_pool_exit_leaves_no_orphan_processes() -> None:
    configs = [stdio_peer(f"s{i}") for i in range(3)]
    async with McpPool(configs, settings=FAST) as pool:
        pids = []
        for config in configs:
            status = await pool.wait_ready(config.name, 15)
            assert status.state == "ready"
            pids.append(status.pid)
        children = {child.pid for child in psutil.Process().children(recursive=True)}
        assert set(pids) <= children
    for pid in pids:
        assert not psutil.pid_exists(pid), f"MCP server process {pid} outlived the pool"


async def test_config_entry_errors_flow_through_add_server() -> None:
    entry = McpConfigEntry("broken", None, "mcpServers.broken: a stdio server needs `command`")
    async with McpPool(settings=FAST) as pool:
        status = await pool.add_server(entry)
        assert status.state == "error" and "needs `command`" in status.last_error
        assert (await pool.wait_ready("broken", 0.1)).state == "error"
