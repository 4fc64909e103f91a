"""Agents calling MCP tools end to end: letta-client SDK -> agent loop -> dispatcher -> pool -> real MCP server."""

from __future__ import annotations

import os
import signal
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from letta_client import StreamableHttpServerConfig

from tests.host.mcp.mcp_gateway import Gateway
from tests.support.scripted_llm import ScriptedLLM
from tests.support.waiting import wait_until

DEADLINE_S = 20.0


def _register(gw: Gateway, server: str, tool: str) -> Any:
    return gw.client.tools.add_mcp_tool(mcp_server_name=server, mcp_tool_name=tool)


def _returns(response: Any) -> list[Any]:
    return [m for m in response.messages if m.message_type == "tool_return_message"]


def _send(gw: Gateway, agent_id: str, text: str = "go") -> Any:
    return gw.client.agents.messages.create(agent_id=agent_id, messages=[{"role": "user", "content": text}])


def test_an_agent_calls_an_mcp_tool_and_gets_its_result(gw: Gateway, make_agent, scripted_llm: ScriptedLLM) -> None:
    tool = _register(gw, "peer", "add")
    agent, model = make_agent([tool.id])
    scripted_llm.for_model(model).push_tool_call(tool.name, {"a": 2, "b": 3})

    returns = _returns(_send(gw, agent.id))

    assert [(r.name, r.status, r.tool_return) for r in returns] == [(tool.name, "success", "5")]


def test_an_agent_calls_a_streamable_http_server_added_through_the_api(gw: Gateway, make_agent, unique,
                                                                        remote_peers, scripted_llm) -> None:
    server = unique("agent_http")
    gw.client.tools.add_mcp_server(request=StreamableHttpServerConfig(server_name=server,
                                                                      server_url=remote_peers["http"]))
    try:
        tool = _register(gw, server, "echo")
        agent, model = make_agent([tool.id])
        scripted_llm.for_model(model).push_tool_call(tool.name, {"text": "over http"})
        assert [(r.status, r.tool_return) for r in _returns(_send(gw, agent.id))] == [("success", "over http")]
    finally:
        gw.client.tools.delete_mcp_server(mcp_server_name=server)


def test_two_servers_exposing_the_same_tool_are_both_usable(gw: Gateway, make_agent, scripted_llm) -> None:
    mine, theirs = _register(gw, "peer", "pid"), _register(gw, "twin", "pid")
    assert (mine.name, theirs.name) == ("pid", "twin__pid"), "the first keeps the plain name, as in Letta"
    assert (_register(gw, "peer", "pid").name, _register(gw, "twin", "pid").name) == (mine.name, theirs.name)
    agent, model = make_agent([mine.id, theirs.id])
    queue = scripted_llm.for_model(model)
    queue.push_tool_call(mine.name, {"request_heartbeat": True})
    queue.push_tool_call(theirs.name, {})

    returns = _returns(_send(gw, agent.id))

    assert [r.tool_return for r in returns] == [str(gw.status("peer")["pid"]), str(gw.status("twin")["pid"])]


def test_attaching_a_whole_server_registers_and_attaches_every_tool(gw: Gateway, make_agent, scripted_llm) -> None:
    agent, model = make_agent()
    resp = gw.http.post(f"/v1/tools/mcp/servers/twin/attach/{agent.id}")
    assert resp.status_code == 200, resp.text
    by_tool = {t["metadata_"]["mcp_tool"]: t["name"] for t in resp.json()}
    assert {"echo", "add", "sleep"} <= set(by_tool)
    assert all(name in (tool, f"twin__{tool}") for tool, name in by_tool.items()), by_tool
    names = set(by_tool.values())
    attached = {t.name for t in gw.client.agents.tools.list(agent_id=agent.id)}
    assert names <= attached
    scripted_llm.for_model(model).push_tool_call(by_tool["echo"], {"text": "whole server"})
    assert [r.tool_return for r in _returns(_send(gw, agent.id))] == ["whole server"]

    detached = gw.http.post(f"/v1/tools/mcp/servers/twin/detach/{agent.id}")
    assert detached.status_code == 200 and {t["name"] for t in detached.json()} == names
    assert gw.http.post("/v1/tools/mcp/servers/twin/attach/agent-nope").status_code == 404


def test_a_hung_tool_times_out_with_the_servers_timeout(gw: Gateway, make_agent, scripted_llm) -> None:
    tool = _register(gw, "peer", "sleep")  # `peer` has "timeout": 2 in the config file
    agent, model = make_agent([tool.id])
    scripted_llm.for_model(model).push_tool_call(tool.name, {"seconds": 60})

    started = time.monotonic()
    returns = _returns(_send(gw, agent.id))

    assert returns[0].status == "error" and "timed out after 2s" in returns[0].tool_return
    assert time.monotonic() - started < 15
    assert gw.status("peer")["state"] == "ready", "a timeout does not take the server down"


def test_killing_the_stdio_server_mid_call_gives_a_clear_error_then_the_next_call_works(
        gw: Gateway, make_agent, scripted_llm) -> None:
    sleep, echo = _register(gw, "twin", "sleep"), _register(gw, "twin", "echo")
    agent, model = make_agent([sleep.id, echo.id])
    queue = scripted_llm.for_model(model)
    queue.push_tool_call(sleep.name, {"seconds": 60})
    events = gw.proc.home / "twin-events.log"
    seen = events.read_text().count("started") if events.exists() else 0
    old_pid = wait_until(lambda: gw.status("twin")["pid"], what="twin to be running")

    with ThreadPoolExecutor(1) as pool:
        turn = pool.submit(_send, gw, agent.id)
        wait_until(lambda: events.exists() and events.read_text().count("started") > seen,
                   what="the sleep call to start")
        os.kill(old_pid, signal.SIGKILL)
        returns = _returns(turn.result(timeout=DEADLINE_S))

    assert returns[0].status == "error"
    assert "twin" in returns[0].tool_return and "lost" in returns[0].tool_return, returns[0].tool_return
    new_pid = wait_until(lambda: (s := gw.status("twin"))["state"] == "ready" and s["pid"] != old_pid and s["pid"],
                         what="twin to be restarted")
    assert new_pid != old_pid

    queue.push_tool_call(echo.name, {"text": "back again"})
    assert [(r.status, r.tool_return) for r in _returns(_send(gw, agent.id))] == [("success", "back again")]


def test_resync_refreshes_the_registered_tools(gw: Gateway) -> None:
    tool = _register(gw, "twin", "add")
    resp = gw.http.post("/v1/tools/mcp/servers/twin/resync")
    assert resp.status_code == 200, resp.text
    body = resp.json()
    assert body["state"] == "ready" and tool.name in body["updated_tools"] and body["missing_tools"] == []
