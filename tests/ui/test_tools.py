"""Tools: a custom tool written and Run in the sandbox; the rule graph; an MCP server added and attached."""

from __future__ import annotations

import sys
from typing import Any

import httpx
from playwright.sync_api import expect

from tests.mcp_client.mcp_peers import PEER_SERVER
from tests.peers.peer_server import BASE_TOOLS
from tests.ui.test_simulator import open_agent
from tests.ui.ui_support import make_agent

SHOUT = '''def shout(text: str, times: int = 2) -> str:
    """Shout the text.

    Args:
        text: What to shout.
        times: How many times to repeat it.

    Returns:
        str: The shout.
    """
    print("shouting", text)
    return " ".join([text.upper()] * times)
'''


def test_write_a_custom_tool_and_run_it(ui: Any, http: httpx.Client) -> None:
    agent = make_agent(http)
    open_agent(ui, agent)
    panel = ui.tab("tools")
    panel.get_by_role("button", name="New custom tool").click()
    editor = panel.get_by_role("region", name="Custom tool editor")
    editor.get_by_label("Python source").fill(SHOUT)
    editor.get_by_label("text * (string)").fill("hey")
    editor.get_by_label("times (integer)").fill("3")
    editor.get_by_role("button", name="Run", exact=True).click()
    expect(editor.locator("[data-out=result]")).to_have_text("HEY HEY HEY")
    expect(editor.locator("[data-out=stdout]")).to_contain_text("shouting hey")
    expect(editor.locator("[data-status]")).to_have_text("Status: success")
    ui.shot("run", target=panel)
    # A failing run shows its error as data (stderr / result), not as a broken page.
    editor.get_by_label("Python source").fill(SHOUT.replace('print("shouting", text)', 'raise ValueError("no shouting")'))
    editor.get_by_label("text * (string)").fill("hey")
    editor.get_by_role("button", name="Run", exact=True).click()
    expect(editor.locator("[data-status]")).to_have_text("Status: error")
    expect(editor.locator(".run-output")).to_contain_text("no shouting")
    editor.get_by_label("Python source").fill(SHOUT)
    editor.get_by_role("button", name="Create and attach").click()
    expect(panel.get_by_role("list", name="Attached tools").locator("[data-tool=shout]")).to_have_count(1)
    names = [t["name"] for t in http.get(f"/v1/agents/{agent['id']}/tools").json()]
    assert "shout" in names
    ui.shot(target=panel)


def test_rule_graph_and_rules_editor(ui: Any, http: httpx.Client) -> None:
    agent = make_agent(http)
    rules = [{"type": "run_first", "tool_name": "conversation_search"},
             {"type": "constrain_child_tools", "tool_name": "conversation_search",
              "children": ["archival_memory_search", "send_message"]},
             {"type": "constrain_child_tools", "tool_name": "core_memory_append", "children": []},
             {"type": "exit_loop", "tool_name": "send_message"}]
    assert http.patch(f"/v1/agents/{agent['id']}", json={"tool_rules": rules}).status_code == 200
    page = open_agent(ui, agent)
    panel = ui.tab("rules")
    graph = panel.locator(".graph svg")
    graph.wait_for()
    for name in ("start", "conversation_search", "archival_memory_search", "send_message", "end of turn"):
        expect(graph.locator(f"[data-node='{name}']")).to_have_count(1)
    expect(graph.locator("[data-node=conversation_search]")).to_have_class("node init")
    expect(graph.locator("[data-node=send_message]")).to_have_class("node terminal")
    expect(graph.locator("[data-edge='conversation_search->archival_memory_search']")).to_have_count(1)
    expect(graph.locator("[data-edge='conversation_search->send_message']")).to_have_count(1)
    expect(graph.locator("[data-edge='send_message->__end']")).to_have_count(1)
    expect(panel.get_by_role("list", name="Rule warnings")).to_contain_text("core_memory_append")
    ui.shot("graph", target=panel)
    # Add a rule in the editor: the graph redraws with the approval node.
    panel.get_by_role("button", name="Add rule").click()
    panel.get_by_label("Rule 5 type").select_option("requires_approval")
    panel.get_by_label("Rule 5 tool").select_option("core_memory_replace")
    panel.get_by_role("button", name="Save rules").click()
    expect(graph.locator("[data-node=core_memory_replace]")).to_have_class("node approval")
    saved = http.get(f"/v1/agents/{agent['id']}").json()["tool_rules"]
    assert {"type": "requires_approval", "tool_name": "core_memory_replace"} in [
        {k: r[k] for k in ("type", "tool_name")} for r in saved]
    # A rule naming a tool the agent lacks is refused with the API's detail.
    panel.get_by_role("button", name="Add rule").click()
    panel.get_by_label("Rule 6 type").select_option("exit_loop")
    page.evaluate("() => { const s = document.querySelector('[aria-label=\"Rule 6 tool\"]');"
                  " s.append(new Option('no_such_tool', 'no_such_tool')); }")
    panel.get_by_label("Rule 6 tool").select_option("no_such_tool")
    panel.get_by_role("button", name="Save rules").click()
    expect(panel.get_by_role("alert")).to_contain_text("no_such_tool")
    ui.shot(target=panel)


def test_add_an_mcp_server_and_attach_its_tools(ui: Any, http: httpx.Client) -> None:
    agent = make_agent(http)
    page = open_agent(ui, agent)
    panel = ui.tab("mcp")
    name = f"peer{agent['id'][-6:]}"
    panel.get_by_label("Name", exact=True).fill(name)
    panel.get_by_label("Transport").select_option("stdio")
    panel.get_by_label("Command").fill(sys.executable)
    panel.get_by_label("Arguments").fill(str(PEER_SERVER))
    panel.get_by_role("button", name="Add environment variable").click()
    panel.get_by_label("Environment variable 1 name").fill("PEER_TOKEN")
    panel.get_by_label("Environment variable 1 value").fill("topsecret-value")
    panel.get_by_role("button", name="Test connection").click()
    found = panel.get_by_role("list", name="Tools found by the test")
    expect(found).to_contain_text("echo")
    expect(panel).to_contain_text(f"Connected: {len(BASE_TOOLS)} tools")
    panel.get_by_role("button", name="Add server").click()
    card = panel.locator(f"[data-server='{name}']")
    card.wait_for()
    expect(card.locator("[data-state]")).to_have_text("ready")
    card.locator("summary").click()
    tool = card.locator("[data-mcp-tool=echo]")
    tool.get_by_role("button", name="Attach echo").click()
    expect(tool).to_contain_text("attached")
    tools = {t["name"]: t for t in http.get(f"/v1/agents/{agent['id']}/tools").json()}
    assert any(t.get("tool_type") == "external_mcp" and n.endswith("echo") for n, t in tools.items()), tools
    card.get_by_role("button", name="Attach all tools").click()
    expect(page.locator("#toasts")).to_contain_text(f"from {name}")
    assert len(http.get(f"/v1/agents/{agent['id']}/tools").json()) >= len(tools) + 5
    assert "topsecret-value" not in page.content()
    assert "topsecret-value" not in http.get("/v1/tools/mcp/servers/").text
    ui.shot(target=panel)
    http.delete(f"/v1/tools/mcp/servers/{name}")
