"""The agents list: create through the UI, search, pagination, export and import, delete."""

from __future__ import annotations

import json
import uuid
from typing import Any
from urllib.parse import urlsplit

import httpx
from playwright.sync_api import expect

from tests.ui.ui_support import make_agent


def test_create_an_agent_through_the_ui(ui: Any, http: httpx.Client) -> None:
    name = f"made-in-ui-{uuid.uuid4().hex[:6]}"
    page = ui.goto("/")
    page.get_by_label("Name", exact=True).fill(name)
    page.get_by_label("Model", exact=True).select_option("openai-proxy/gpt-4o-mini")
    page.get_by_label("Persona block").fill("I am the UI-made persona.")
    page.get_by_label("Human block").fill("The human is Ada.")
    # The form submits only when every required field has a value (the browser checks): the embedding list
    # arrives with the models; a click before it would meet a form that cannot submit.
    expect(page.locator("select[name=embedding]")).not_to_have_value("", timeout=60_000)
    ui.shot("form")
    page.get_by_role("button", name="Create agent").click()
    page.get_by_role("heading", name=name).wait_for(timeout=60_000)
    agent_id = page.url.rsplit("/", 1)[1]
    assert agent_id.startswith("agent-")
    agent = http.get(f"/v1/agents/{agent_id}").json()
    assert agent["name"] == name
    assert agent["llm_config"]["handle"] == "openai-proxy/gpt-4o-mini"
    assert {b["label"]: b["value"] for b in agent["memory"]["blocks"]} == {
        "persona": "I am the UI-made persona.", "human": "The human is Ada."}
    page.locator("[data-block=persona] textarea").wait_for()
    assert page.locator("[data-block=persona] textarea").input_value() == "I am the UI-made persona."
    ui.shot()


def test_typing_in_the_create_form_while_the_list_loads_stays_in_the_form(ui: Any) -> None:
    """The list's answer arriving does not take the keyboard from a field the user is typing in: the search box
    is focused when the page mounts, not when the (slow: many agents) first page of the list arrives. It used
    to be, so what was typed next went into the search box, and the form, its name empty, would not submit."""
    held: list[Any] = []
    ui.page.route(lambda url: urlsplit(url).path == "/v1/agents/", lambda route: held.append(route))
    page = ui.goto("/")
    name = page.get_by_label("Name", exact=True)
    name.click()
    page.keyboard.type("typed-")
    for _ in range(500):  # the list's request is on its way (10 s at most)
        if held:
            break
        page.wait_for_timeout(20)
    assert held, "the page never asked for the list"
    for route in held:
        route.fallback()  # on to the server
    expect(page.get_by_text(" in all")).to_be_visible()  # the list arrived
    page.keyboard.type("on")
    expect(name).to_have_value("typed-on")
    expect(page.get_by_label("Search agents by name")).to_have_value("")


def test_create_error_shows_the_api_detail(ui: Any, http: httpx.Client) -> None:
    page = ui.goto("/")
    page.locator("select[name=model] option[value='openai-proxy/gpt-4o-mini']").wait_for(state="attached")
    # The form submits only when every required field has a value (the browser checks): the embedding
    # list arrives with the models, but wait for it too, or a click can meet a form that cannot submit.
    expect(page.locator("select[name=embedding]")).not_to_have_value("", timeout=60_000)
    page.get_by_label("Name", exact=True).fill("bad name with spaces and / slashes" * 20)
    expect(page.get_by_label("Name", exact=True)).not_to_have_value("")
    page.get_by_role("button", name="Create agent").click()
    alert = page.locator("form .error[role=alert]")
    alert.wait_for(timeout=60_000)
    assert alert.inner_text().startswith("422: ")
    assert "name" in alert.inner_text()
    ui.shot()


def test_search_and_pagination(ui: Any, http: httpx.Client) -> None:
    tag = uuid.uuid4().hex[:6]
    for i in range(55):
        make_agent(http, name=f"page-{tag}-{i:02d}")
    page = ui.goto("/")
    page.get_by_label("Search agents by name").fill(f"page-{tag}")
    page.locator(f".agent-list[data-query='page-{tag}'][data-page='1']").wait_for()
    rows = page.locator(".agent-list li.row")
    expect(rows).to_have_count(25)
    seen = [set(rows.locator("a").all_inner_texts())]
    for number, size in ((2, 25), (3, 5)):
        page.get_by_role("button", name="Next →").click()
        page.locator(f".agent-list[data-query='page-{tag}'][data-page='{number}']").wait_for()
        expect(rows).to_have_count(size)
        seen.append(set(rows.locator("a").all_inner_texts()))
    assert sum(len(s) for s in seen) == 55
    assert set().union(*seen) == {f"page-{tag}-{i:02d}" for i in range(55)}
    assert "page-" + tag + "-54" in seen[0], "newest first"
    assert page.get_by_role("button", name="Next →").is_disabled()
    page.get_by_role("button", name="← Previous").click()
    page.locator(f".agent-list[data-query='page-{tag}'][data-page='2']").wait_for()
    expect(rows).to_have_count(25)
    page.get_by_label("Search agents by name").fill(f"page-{tag}-07")
    page.locator(f".agent-list[data-query='page-{tag}-07']").wait_for()
    expect(rows).to_have_count(1)
    page.get_by_label("Search agents by name").fill(f"nothing-{tag}")
    page.get_by_text("No agent's name contains").wait_for()
    ui.shot()


def test_export_import_and_delete(ui: Any, http: httpx.Client, tmp_path: Any) -> None:
    agent = make_agent(http, name=f"porter-{uuid.uuid4().hex[:6]}")
    page = ui.goto("/")
    page.get_by_label("Search agents by name").fill(agent["name"])
    page.get_by_role("button", name=f"Export {agent['name']}", exact=True).wait_for()
    with page.expect_download() as download:
        page.get_by_role("button", name=f"Export {agent['name']}", exact=True).click()
    path = tmp_path / "agent.af"
    download.value.save_as(path)
    assert download.value.suggested_filename == f"{agent['name']}.af"
    exported = json.loads(path.read_text())
    assert exported["name"] == agent["name"]
    assert {b["label"] for b in exported["core_memory"]} == {"persona", "human"}
    page.locator("#import-file").set_input_files(str(path))
    page.get_by_role("heading", name=f"{agent['name']}_copy").wait_for()
    imported_id = page.url.rsplit("/", 1)[1]
    assert imported_id != agent["id"]
    assert http.get(f"/v1/agents/{imported_id}").json()["name"] == f"{agent['name']}_copy"
    page.get_by_role("link", name="← Agents").click()
    page.get_by_label("Search agents by name").fill(agent["name"])
    page.get_by_role("button", name=f"Delete {agent['name']}", exact=True).wait_for()
    page.once("dialog", lambda d: d.accept())
    page.get_by_role("button", name=f"Delete {agent['name']}", exact=True).click()
    page.get_by_text(f"Deleted {agent['name']}").wait_for()
    assert http.get(f"/v1/agents/{agent['id']}").status_code == 404
    ui.shot()
