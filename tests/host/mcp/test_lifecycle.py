"""Servers outlive restarts (database) and follow config-file edits without one; server-everything from npm."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import test_database_uri as fresh_database_uri
from tests.host.mcp.mcp_gateway import Gateway, start_gateway, stdio_entry, write_json
from tests.support.scripted_llm import ScriptedLLM
from tests.support.waiting import wait_until

PEERS = Path(__file__).resolve().parents[2] / "peers"
EVERYTHING_JS = PEERS / "node_modules" / "@modelcontextprotocol" / "server-everything" / "dist" / "index.js"


def _listing(gw: Gateway) -> dict[str, Any]:
    return gw.http.get("/v1/tools/mcp/servers").json()  # type: ignore[no-any-return]


def test_a_server_added_through_the_api_survives_a_restart(scripted_llm: ScriptedLLM, tmp_path: Path,
                                                          remote_peers) -> None:
    home, uri = tmp_path / "home", fresh_database_uri()
    first = start_gateway(scripted_llm, home, {"mcpServers": {}}, pg_uri=uri)
    try:
        added = first.http.put("/v1/tools/mcp/servers", json={"server_name": "kept", "type": "streamable_http",
                                                               "server_url": remote_peers["http"]})
        assert added.status_code == 200, added.text
        tool = first.http.post("/v1/tools/mcp/servers/kept/echo").json()
    finally:
        first.close()
    assert json.loads((home / "mcp_config.json").read_text()) == {"mcpServers": {}}, "API servers live in the DB"

    second = start_gateway(scripted_llm, home, {}, pg_uri=uri)
    try:
        kept = _listing(second)["kept"]
        assert kept["source"] == "database" and kept["server_url"] == remote_peers["http"]
        tools = second.client.tools.list_mcp_tools_by_server(mcp_server_name="kept")
        assert "echo" in {t.name for t in tools}
        assert second.client.tools.retrieve(tool_id=tool["id"]).name == tool["name"]
    finally:
        second.close()


def test_config_file_edits_apply_while_running(gw: Gateway) -> None:
    original = json.loads(gw.config_path.read_text())
    edited = {"mcpServers": {**original["mcpServers"], "edited": stdio_entry()}}
    try:
        write_json(gw.config_path, edited)
        wait_until(lambda: _listing(gw).get("edited", {}).get("state") == "ready", what="the new entry to be ready")
        assert "echo" in {t.name for t in gw.client.tools.list_mcp_tools_by_server(mcp_server_name="edited")}

        gw.config_path.write_text("{ not json")
        reason = wait_until(lambda: gw.status("edited")["config_file_error"], what="the watcher to report the bad file")
        assert "invalid JSON at line 1" in reason
        assert _listing(gw)["edited"]["state"] == "ready", "a malformed file leaves the running servers alone"
        refused = gw.http.patch("/v1/tools/mcp/servers/twin", json={"timeout": 9})
        assert refused.status_code == 409 and "cannot be parsed" in refused.json()["detail"]
    finally:
        write_json(gw.config_path, original)
    wait_until(lambda: "edited" not in _listing(gw), what="the removed entry to go away")
    assert gw.status("twin")["state"] in ("ready", "connecting")


@pytest.mark.skipif(not EVERYTHING_JS.exists(), reason="tests/peers/node_modules is absent: `npm ci` in tests/peers")
@pytest.mark.skipif(shutil.which("node") is None, reason="node is not on PATH")
def test_server_everything_from_npm_through_the_gateway(gw: Gateway, make_agent, unique, scripted_llm) -> None:
    name = unique("everything")
    resp = gw.http.put("/v1/tools/mcp/servers", json={"server_name": name, "command": "node",
                                                      "args": [str(EVERYTHING_JS), "stdio"]})
    assert resp.status_code == 200, resp.text
    try:
        tools = {t.name for t in gw.client.tools.list_mcp_tools_by_server(mcp_server_name=name)}
        assert {"echo", "get-sum"} <= tools
        tool = gw.client.tools.add_mcp_tool(mcp_server_name=name, mcp_tool_name="get-sum")
        agent, model = make_agent([tool.id])
        scripted_llm.for_model(model).push_tool_call(tool.name, {"a": 3, "b": 4})
        response = gw.client.agents.messages.create(agent_id=agent.id, messages=[{"role": "user", "content": "sum"}])
        returns = [m for m in response.messages if m.message_type == "tool_return_message"]
        assert returns[0].status == "success" and "7" in returns[0].tool_return
    finally:
        gw.http.delete(f"/v1/tools/mcp/servers/{name}")
