"""The Agent Simulator: streamed replies, reasoning and tool calls, send as system, approvals, stop."""

from __future__ import annotations

import re
from typing import Any

import httpx
from playwright.sync_api import expect

from tests.support.scripted_llm import ScriptedLLM
from tests.ui.ui_support import make_agent

WATCH = """() => {
  window.__seen = [];
  new MutationObserver(() => {
    const last = [...document.querySelectorAll('.log .msg.assistant .text')].pop();
    if (last) window.__seen.push(last.textContent);
  }).observe(document.querySelector('.log'), {subtree: true, childList: true, characterData: true});
}"""


def open_agent(ui: Any, agent: dict[str, Any]) -> Any:
    page = ui.goto(f"/agents/{agent['id']}")
    page.get_by_role("heading", name=agent["name"]).wait_for()
    page.locator(".log[data-ready=true]").wait_for()
    return page


def test_chat_streams_the_reply_token_by_token(ui: Any, http: httpx.Client) -> None:
    agent = make_agent(http)
    page = open_agent(ui, agent)
    page.evaluate(WATCH)
    text = "please echo this considerably longer sentence so that it streams back in several separate pieces"
    page.get_by_label("Message", exact=True).fill(text)
    page.keyboard.press("Enter")
    log = page.get_by_role("log", name="Conversation")
    expect(log.locator(".msg.assistant .text").last).to_have_text(text)
    expect(log.locator(".msg.user .text").last).to_have_text(text)
    usage = log.locator("[data-type=usage]").last
    expect(usage).to_contain_text("stop: end_turn")
    assert re.search(r"\d+ prompt \+ \d+ completion = \d+ tokens · 1 step", usage.inner_text())
    expect(log.locator(".msg.reasoning").last).to_contain_text("Echoing the user.")
    seen = page.evaluate("() => window.__seen")
    partial = {s for s in seen if s and s != text}
    assert partial and all(text.startswith(s) for s in partial), seen  # grew in pieces, each a prefix
    ui.shot(target=page.locator(".sim"))
    # Reloading shows the same conversation from the API's history.
    page.reload()
    expect(page.get_by_role("log").locator(".msg.assistant .text").last).to_have_text(text)


def test_tool_calls_and_returns_are_shown_expandable(ui: Any, http: httpx.Client, scripted_llm: ScriptedLLM) -> None:
    agent = make_agent(http)
    scripted_llm.push_tool_call("archival_memory_insert", {"content": "The sky is teal today.", "request_heartbeat": True},
                                reasoning="Store this fact.")
    scripted_llm.push_tool_call("send_message", {"message": "Stored it."})
    page = open_agent(ui, agent)
    page.get_by_label("Message", exact=True).fill("remember the sky is teal")
    page.get_by_role("button", name="Send").click()
    log = page.get_by_role("log")
    expect(log.locator(".msg.assistant .text").last).to_have_text("Stored it.")
    call = log.locator("details.msg.tool").filter(has_text="archival_memory_insert").last
    call.locator("summary").click()
    expect(call).to_contain_text('"content": "The sky is teal today."')
    expect(call.locator(".result")).to_contain_text("Result (success)")
    expect(log.locator(".msg.reasoning").filter(has_text="Store this fact.")).to_have_count(1)
    expect(log.locator("[data-type=usage]").last).to_contain_text("2 step(s)")
    ui.shot(target=page.locator(".sim"))
    # The archival panel shows the inserted passage.
    panel = ui.tab("archival")
    expect(panel.locator("li.row").filter(has_text="The sky is teal today.")).to_have_count(1)


def test_send_as_system(ui: Any, http: httpx.Client, scripted_llm: ScriptedLLM) -> None:
    agent = make_agent(http)
    page = open_agent(ui, agent)
    before = len(scripted_llm.requests)
    page.get_by_label("Send as").select_option("system")
    page.get_by_label("Message", exact=True).fill("SYSTEM NOTICE: maintenance at noon")
    page.get_by_role("button", name="Send").click()
    log = page.get_by_role("log")
    expect(log.locator(".msg.system").filter(has_text="SYSTEM NOTICE")).to_have_count(1)
    expect(page.locator(".composer")).to_contain_text("Done")
    sent = scripted_llm.requests[before]["messages"]
    # agenthost hands a client's system message to the model as a user-side note marked system_message.
    assert any('"system_message"' in str(m["content"]) and "SYSTEM NOTICE: maintenance at noon" in str(m["content"])
               for m in sent), sent


def test_approve_a_tool_call(ui: Any, http: httpx.Client, scripted_llm: ScriptedLLM) -> None:
    agent = make_agent(http)
    rules = agent["tool_rules"] + [{"type": "requires_approval", "tool_name": "core_memory_append"}]
    assert http.patch(f"/v1/agents/{agent['id']}", json={"tool_rules": rules}).status_code == 200
    scripted_llm.push_tool_call("core_memory_append", {"label": "human", "content": "Likes green tea.",
                                                       "request_heartbeat": True})
    scripted_llm.push_tool_call("send_message", {"message": "Noted your tea."})
    page = open_agent(ui, agent)
    page.get_by_label("Message", exact=True).fill("I like green tea")
    page.get_by_role("button", name="Send").click()
    card = page.get_by_role("group", name="Approval for core_memory_append")
    card.wait_for()
    expect(card).to_contain_text('"content": "Likes green tea."')
    expect(page.locator("[data-type=usage]").last).to_contain_text("stop: requires_approval")
    ui.shot("request", target=page.locator(".sim"))
    card.get_by_label("Reason for the decision").fill("fine by me")
    card.get_by_role("button", name="Approve").click()
    log = page.get_by_role("log")
    expect(log.locator(".msg.assistant .text").last).to_have_text("Noted your tea.")
    human = next(b for b in http.get(f"/v1/agents/{agent['id']}/core-memory/blocks").json() if b["label"] == "human")
    assert human["value"].endswith("Likes green tea.")
    # The memory panel refreshed after the turn.
    expect(page.locator("[data-block=human] textarea")).to_have_value(human["value"])
    ui.shot(target=page.locator(".sim"))


def test_stop_a_running_turn(ui: Any, http: httpx.Client, scripted_llm: ScriptedLLM) -> None:
    agent = make_agent(http)
    page = open_agent(ui, agent)
    count = len(scripted_llm.requests)
    scripted_llm.push_delay(30)
    page.get_by_label("Message", exact=True).fill("take your time")
    page.get_by_role("button", name="Send").click()
    stop = page.get_by_role("button", name="Stop")
    stop.wait_for()
    scripted_llm.wait_for_requests(count + 1, timeout=20)
    stop.click()
    expect(stop).to_be_hidden()
    expect(page.get_by_role("button", name="Send")).to_be_enabled()
    runs = http.get("/v1/runs/", params={"agent_ids": agent["id"]}).json()
    assert [r["status"] for r in runs] == ["cancelled"], runs
