"""MCP tool names are decided when a tool is added and never change: plain as in Letta, qualified only when
a live server's tool (or a non-MCP tool) holds the plain name, and a deleted server's leftover is replaced."""

from __future__ import annotations

from typing import Any

from tests.host.mcp.mcp_gateway import PEER_SERVER, Gateway, stdio_entry


def _add_server(gw: Gateway, name: str, extra: int = 1) -> None:
    body = {"server_name": name, "command": stdio_entry()["command"],
            "args": [str(PEER_SERVER), "--extra-tools", str(extra)]}
    resp = gw.http.put("/v1/tools/mcp/servers", json=body)
    assert resp.status_code == 200, resp.text


def _register(gw: Gateway, server: str, tool: str) -> dict[str, Any]:
    resp = gw.http.post(f"/v1/tools/mcp/servers/{server}/tools/{tool}")
    assert resp.status_code == 200, resp.text
    return resp.json()  # type: ignore[no-any-return]


def test_names_are_plain_first_qualified_on_a_live_clash_and_never_change(gw: Gateway, unique) -> None:
    first, second, third = unique("names_a"), unique("names_b"), unique("names_c")
    for server in (first, second):
        _add_server(gw, server)
    try:
        mine = _register(gw, first, "extra_000")
        assert mine["name"] == "extra_000", "the plain name, as Letta gives it"
        theirs = _register(gw, second, "extra_000")
        assert theirs["name"] == f"{second}__extra_000", "the plain name is held by a live server's tool"
        again = _register(gw, first, "extra_000")
        assert (again["id"], again["name"]) == (mine["id"], "extra_000"), "registering again changes nothing"
        assert _register(gw, second, "extra_000")["name"] == theirs["name"]

        assert gw.http.delete(f"/v1/tools/mcp/servers/{first}").status_code == 200
        _add_server(gw, third)
        replaced = _register(gw, third, "extra_000")
        assert replaced["name"] == "extra_000", "a deleted server's leftover gives its name up"
        assert replaced["id"] == mine["id"] and replaced["metadata_"]["mcp_server"] == third, "upserted, as Letta"
        assert _register(gw, second, "extra_000")["name"] == theirs["name"], "the other name did not move"
        schema = gw.http.get(f"/v1/tools/{theirs['id']}").json()["json_schema"]
        assert schema["name"] == theirs["name"]
    finally:
        for server in (first, second, third):
            gw.http.delete(f"/v1/tools/mcp/servers/{server}")
        for name in ("extra_000", f"{second}__extra_000"):
            for tool in gw.http.get("/v1/tools/", params={"name": name}).json():
                gw.http.delete(f"/v1/tools/{tool['id']}")


def test_a_custom_tool_holding_the_plain_name_makes_the_mcp_tool_qualified(gw: Gateway, unique) -> None:
    server = unique("names_custom")
    source = 'def extra_001() -> str:\n    """A custom tool that shares an MCP tool\'s name."""\n    return "x"\n'
    custom = gw.http.post("/v1/tools/", json={"source_code": source})
    assert custom.status_code == 200, custom.text
    _add_server(gw, server, extra=2)
    try:
        tool = _register(gw, server, "extra_001")
        assert tool["name"] == f"{server}__extra_001"
        assert gw.http.get(f"/v1/tools/{custom.json()['id']}").json()["tool_type"] == "custom", "left alone"
        gw.http.delete(f"/v1/tools/{tool['id']}")
    finally:
        gw.http.delete(f"/v1/tools/mcp/servers/{server}")
        gw.http.delete(f"/v1/tools/{custom.json()['id']}")
