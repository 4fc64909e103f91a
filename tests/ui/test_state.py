"""State panels: core memory edits (visible in the context window and on the next turn), archival memory."""

from __future__ import annotations

from typing import Any

import httpx
from playwright.sync_api import expect

from tests.support.scripted_llm import ScriptedLLM
from tests.ui.test_simulator import open_agent
from tests.ui.ui_support import make_agent


def test_edit_a_block_and_see_it_in_the_context_window(ui: Any, http: httpx.Client, scripted_llm: ScriptedLLM) -> None:
    agent = make_agent(http)
    other = make_agent(http, memory_blocks=[{"label": "persona", "value": "Another agent."}])
    persona = next(b for b in agent["memory"]["blocks"] if b["label"] == "persona")
    human = next(b for b in agent["memory"]["blocks"] if b["label"] == "human")
    assert http.patch(f"/v1/agents/{other['id']}/core-memory/blocks/attach/{human['id']}").status_code == 200
    assert http.patch(f"/v1/blocks/{persona['id']}", json={"limit": 100}).status_code == 200
    page = open_agent(ui, agent)
    block = page.locator("[data-block=persona]")
    expect(block).to_contain_text("18 / 100 chars")
    expect(page.locator("[data-block=human]")).to_contain_text(f"Shared with {other['name']}")
    area = block.get_by_label("Value of block persona")
    area.fill("I am Captain Teal, keeper of the lighthouse.")
    expect(block).to_contain_text("44 / 100 chars")
    block.get_by_role("button", name="Save").click()
    expect(page.locator("#toasts")).to_contain_text("Saved persona")
    expect(block.get_by_role("button", name="Save")).to_be_disabled()
    value = next(b for b in http.get(f"/v1/agents/{agent['id']}/core-memory/blocks").json() if b["label"] == "persona")
    assert value["value"] == "I am Captain Teal, keeper of the lighthouse."
    # Over the limit: the count turns red and the API's refusal is shown.
    area.fill("x" * 120)
    expect(block.locator(".bad")).to_contain_text("120 / 100 chars")
    block.get_by_role("button", name="Save").click()
    expect(block.get_by_role("alert")).to_contain_text("422")
    block.get_by_role("button", name="Revert").click()
    ui.shot("memory", target=page.locator("#panel-memory"))

    panel = ui.tab("context")
    section = panel.locator("[data-section=core]")
    section.locator("summary").click()
    expect(section.locator("pre")).to_contain_text("I am Captain Teal, keeper of the lighthouse.")
    expect(panel.locator(".stack .seg")).to_have_count(5)
    expect(panel).to_contain_text("tokens (")
    ui.shot("context", target=panel)
    # ... and on the next turn the model sees it in its system prompt.
    before = len(scripted_llm.requests)
    page.get_by_label("Message", exact=True).fill("who are you?")
    page.get_by_role("button", name="Send").click()
    expect(page.get_by_role("log").locator(".msg.assistant .text").last).to_have_text("who are you?")
    system = scripted_llm.requests[before]["messages"][0]
    assert "I am Captain Teal, keeper of the lighthouse." in str(system["content"])
    # The turn reloaded the context window (its messages now include this one); the section opened stays open.
    expect(panel.locator("[data-section=messages] pre")).to_contain_text("who are you?")
    expect(section).to_have_attribute("open", "")
    expect(section.locator("pre")).to_contain_text("I am Captain Teal, keeper of the lighthouse.")


def test_archival_memory_insert_search_delete(ui: Any, http: httpx.Client) -> None:
    agent = make_agent(http)
    open_agent(ui, agent)
    panel = ui.tab("archival")
    expect(panel).to_contain_text("No passages yet.")
    for text in ("Otters hold hands while sleeping.", "The lighthouse lamp is green."):
        panel.get_by_label("Text").fill(text)
        panel.get_by_label("Tags").fill("facts")
        panel.get_by_role("button", name="Insert").click()
        expect(panel.locator("li.row").filter(has_text=text)).to_have_count(1)
    assert len(http.get(f"/v1/agents/{agent['id']}/archival-memory").json()) == 2
    panel.get_by_label("Search archival memory").fill("otters sleeping")
    panel.get_by_role("button", name="Search", exact=True).click()
    expect(panel.locator("li.row").first).to_contain_text("Otters hold hands")
    ui.shot(target=panel)
    panel.get_by_label("Search archival memory").fill("")
    panel.get_by_role("button", name="Search", exact=True).click()
    row = panel.locator("li.row").filter(has_text="lighthouse lamp")
    row.get_by_role("button", name="Delete passage").click()
    expect(row).to_have_count(0)
    assert [p["text"] for p in http.get(f"/v1/agents/{agent['id']}/archival-memory").json()] == [
        "Otters hold hands while sleeping."]
