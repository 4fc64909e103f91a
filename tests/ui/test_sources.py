"""Data sources: create, upload with a progress bar fed by the ingestion job, attach; runs and settings."""

from __future__ import annotations

from typing import Any

import httpx
from playwright.sync_api import expect

from tests.ui.test_simulator import open_agent
from tests.ui.ui_support import make_agent

TEXT = "\n\n".join(f"Paragraph {i}: the lighthouse keeper logs ship number {i} passing at dawn." for i in range(120))


def test_upload_a_file_and_watch_the_job_finish(ui: Any, http: httpx.Client) -> None:
    agent = make_agent(http)
    open_agent(ui, agent)
    panel = ui.tab("sources")
    name = f"logbook-{agent['id'][-6:]}"
    panel.get_by_label("Name", exact=True).fill(name)
    panel.get_by_role("button", name="Create source").click()
    card = panel.locator(f"[data-source='{name}']")
    card.wait_for()
    card.locator("summary").click()
    expect(card).to_contain_text("No files.")
    card.get_by_label(f"File to upload to {name}").set_input_files(
        files=[{"name": "logbook.txt", "mimeType": "text/plain", "buffer": TEXT.encode()}])
    card.get_by_role("button", name="Upload", exact=True).click()
    expect(card.locator("[data-job-status]")).to_have_attribute("data-job-status", "completed")
    expect(card.get_by_role("progressbar", name="Ingesting logbook.txt")).to_have_attribute("value", "1")
    expect(card.locator("[data-file='logbook.txt']")).to_contain_text("completed")
    expect(card.locator("li.row").filter(has_text="lighthouse keeper").first).to_be_visible()
    ui.shot("upload", target=panel)
    source = next(s for s in http.get("/v1/sources/").json() if s["name"] == name)
    assert http.get(f"/v1/sources/{source['id']}/passages").json()
    card.get_by_role("button", name="Attach to agent").click()
    card = panel.locator(f"[data-source='{name}']")
    expect(card.locator("summary")).to_contain_text("attached")
    assert [s["id"] for s in http.get(f"/v1/agents/{agent['id']}/sources").json()] == [source["id"]]
    ui.shot(target=panel)


def test_an_open_card_stays_open_when_the_list_reloads_and_a_late_answer_never_paints_over_a_newer_one(
        ui: Any, http: httpx.Client) -> None:
    """The panel's first listing is answered before anything exists but delivered only at the end (a slow
    network); meanwhile two sources are created, each create reloading the list, with the first card open."""
    held: list[tuple[Any, Any]] = []

    def hold_the_first_listing(route: Any) -> None:
        if held or route.request.method != "GET":
            route.continue_()
        else:
            held.append((route, route.fetch()))

    agent = make_agent(http)
    page = open_agent(ui, agent)
    page.route("**/v1/sources/", hold_the_first_listing)
    panel = ui.tab("sources")
    names = [f"{kind}-{agent['id'][-6:]}" for kind in ("first", "second")]
    for name in names:
        panel.get_by_label("Name", exact=True).fill(name)
        panel.get_by_role("button", name="Create source").click()
        card = panel.locator(f"[data-source='{name}']")
        card.wait_for()
        if name == names[0]:
            card.locator("summary").click()
            expect(card).to_contain_text("No files.")
    first = panel.locator(f"[data-source='{names[0]}']")
    expect(first).to_have_attribute("open", "")
    expect(first).to_contain_text("No files.")  # a fresh card, filled again (the reload replaced the old one)
    assert len(held) == 1 and not any(name in held[0][1].text() for name in names)
    route, answer = held[0]
    with page.expect_response(lambda r: r.request == route.request):
        route.fulfill(response=answer)
    page.evaluate("() => new Promise((done) => setTimeout(done, 100))")  # the late answer's handler has run
    for name in names:
        expect(panel.locator(f"[data-source='{name}']")).to_be_visible()
    expect(first).to_have_attribute("open", "")
    expect(first).to_contain_text("No files.")
    ui.shot(target=panel)


def test_runs_and_settings(ui: Any, http: httpx.Client) -> None:
    agent = make_agent(http)
    page = open_agent(ui, agent)
    page.get_by_label("Message", exact=True).fill("log this run")
    page.get_by_role("button", name="Send").click()
    expect(page.get_by_role("log").locator(".msg.assistant .text").last).to_have_text("log this run")
    runs = ui.tab("runs")
    run = runs.locator("details.run").first
    expect(run).to_contain_text("completed")
    expect(run).to_contain_text("stop: end_turn")
    run.locator("summary").click()
    expect(run).to_contain_text("prompt +")
    run.locator("ol.steps button").first.click()
    expect(run.locator(".step-detail pre")).to_contain_text('"id": "step-')
    ui.shot("runs", target=runs)

    settings = ui.tab("settings")
    settings.get_by_label("Description").fill("Keeps the lighthouse log.")
    settings.get_by_label("Temperature").fill("0.3")
    settings.get_by_label("Context window (tokens)").fill("16000")
    settings.get_by_label("Tags").fill("lighthouse, logs")
    settings.get_by_text("message_buffer_autoclear").click()
    settings.get_by_role("button", name="Add environment variable").click()
    settings.get_by_label("Environment variable 1 name").fill("LOG_TOKEN")
    settings.get_by_label("Environment variable 1 value").fill("tok-123")
    expect(settings.get_by_label("Environment variable 1 value")).to_have_attribute("type", "password")
    settings.get_by_role("button", name="Save settings").click()
    expect(page.locator("#toasts")).to_contain_text("Settings saved")
    saved = http.get(f"/v1/agents/{agent['id']}").json()
    assert saved["description"] == "Keeps the lighthouse log."
    assert saved["llm_config"]["temperature"] == 0.3
    assert saved["llm_config"]["context_window"] == 16000
    assert sorted(saved["tags"]) == ["lighthouse", "logs"]
    assert saved["message_buffer_autoclear"] is True
    # Saved, and (write-only, as every secret here) never answered in clear.
    assert {v["key"]: v["value"] for v in saved["tool_exec_environment_variables"]} == {"LOG_TOKEN": "****"}
    assert "tok-123" not in http.get(f"/v1/agents/{agent['id']}").text
    ui.shot(target=settings)
    # A bad value is refused with the API's detail.
    settings.get_by_label("Name", exact=True).fill("n" * 300)
    settings.get_by_role("button", name="Save settings").click()
    expect(settings.get_by_role("alert")).to_contain_text("422: name: String should have at most 256 characters")
