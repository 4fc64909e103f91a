"""The shell: served at / and the UI's own paths, never shadowing /v1 or /mcp; offline docs; login."""

from __future__ import annotations

import os
import re
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx

from tests.support.server import fresh_pg_database
from tests.ui.ui_support import make_agent


def test_shell_answers_its_paths_and_never_shadows_the_api(http: httpx.Client) -> None:
    for path in ("/", "/agents", "/agents/", "/agents/agent-123"):
        r = http.get(path)
        assert r.status_code == 200, path
        assert r.headers["content-type"].startswith("text/html")
        assert '<script type="module" src="/ui/js/main.js">' in r.text
        assert "default-src 'self'" in r.headers["content-security-policy"]
    assert http.get("/v1/agents/agent-nope").status_code == 404
    assert http.get("/v1/agents/agent-nope").headers["content-type"].startswith("application/json")
    assert http.get("/agents/a/b").status_code == 404
    assert http.get("/ui/js/nope.js").status_code == 404
    js = http.get("/ui/js/main.js")
    assert js.status_code == 200 and "javascript" in js.headers["content-type"]


def test_first_load_is_light_and_local(ui: Any) -> None:
    sizes: dict[str, int] = {}
    ui.page.on("response", lambda r: sizes.__setitem__(r.url, len(r.body())) if r.status == 200 else None)
    ui.goto("/")
    ui.page.get_by_role("heading", name="Agents").wait_for()
    ui.page.wait_for_load_state("networkidle")
    total = sum(sizes.values())
    assert total < 400_000, sizes
    assert any(url.endswith("/ui/js/agents.js") for url in sizes)
    assert not any("/ui/js/tools.js" in url or "/vendor/" in url for url in sizes), "heavy modules load lazily"
    ui.shot("agents")


def test_docs_and_redoc_render_offline(ui: Any) -> None:
    page = ui.goto("/docs")
    page.locator(".swagger-ui .info .title").wait_for()
    assert "agenthost" in page.locator(".swagger-ui .info .title").inner_text()
    page.locator(".opblock-tag", has_text="agents").first.wait_for()
    ui.shot("swagger")
    page = ui.goto("/redoc")
    page.locator("h1", has_text="agenthost").wait_for()
    page.locator("[data-section-id^='tag/agents']").first.wait_for(state="attached")
    page.wait_for_load_state("networkidle")
    ui.shot("redoc")
    assert ui.hosts == {ui.base_url.split("//")[1]}


def test_unknown_agent_shows_the_api_detail(ui: Any) -> None:
    page = ui.goto("/agents/agent-00000000-0000-4000-8000-000000000000")
    alert = page.get_by_role("alert")
    alert.wait_for()
    assert re.search(r"404: .*agent", alert.inner_text(), re.I)
    ui.shot()


def test_secure_server_asks_for_the_password(make_server: Any, open_browser: Any) -> None:
    # A fresh Postgres database is made with asyncio.run, which cannot run on this thread while Playwright's
    # sync API holds its loop: make it on a worker thread ("" = SQLite).
    admin = os.environ.get("AGENTHOST_TEST_PG_URI")
    with ThreadPoolExecutor(1) as pool:
        uri = pool.submit(fresh_pg_database, admin).result() if admin else ""
    srv = make_server({"SECURE": "true", "LETTA_SERVER_PASSWORD": "s3cret-pw"}, pg_uri=uri)
    make_agent(httpx.Client(base_url=srv.base_url, headers={"Authorization": "Bearer s3cret-pw"}), name="guarded")
    ui = open_browser(srv.base_url)
    page = ui.goto("/")
    page.get_by_role("heading", name="Sign in").wait_for()
    assert page.locator("text=guarded").count() == 0
    page.get_by_label("Server password").fill("wrong")
    page.get_by_role("button", name="Sign in").click()
    page.get_by_role("alert").filter(has_text="Wrong password").wait_for()
    page.get_by_label("Server password").fill("s3cret-pw")
    page.get_by_role("button", name="Sign in").click()
    page.get_by_role("link", name="guarded").wait_for()
    ui.shot()
    # A deep link works after sign-in too (the password is kept for the session).
    page.get_by_role("link", name="guarded").click()
    page.get_by_role("heading", name="guarded").wait_for()
    page.locator("[data-block=persona] textarea").wait_for()
    page.get_by_role("button", name="Sign out").click()
    page.get_by_role("heading", name="Sign in").wait_for()


# The boxes of the agent page's three columns (viewport coordinates, as Playwright's bounding_box), in one read.
LAYOUT = """() => ['aside[aria-label="Configuration"]', 'section[aria-label="Agent simulator"]',
                   'aside[aria-label="State"]'].map((selector) => {
  const r = document.querySelector(selector).getBoundingClientRect();
  return {x: r.x, y: r.y, width: r.width, height: r.height};
})"""


def test_layout_stacks_on_a_narrow_window_and_tabs_move_with_arrows(browser: Any, server: Any, http: httpx.Client,
                                                                     request: Any) -> None:
    from tests.ui.conftest import checked
    from tests.ui.ui_support import open_ui

    agent = make_agent(http)
    for width, stacked in ((1440, False), (720, True)):
        ui, context = open_ui(browser, server.base_url, f"{request.node.name}-{width}",
                              viewport={"width": width, "height": 900})
        try:
            page = ui.goto(f"/agents/{agent['id']}")
            page.locator(".log[data-ready=true]").wait_for()
            # The columns' first panels have loaded (their height settles), and the three boxes come from one
            # layout: measured one by one, a panel still loading could move the next box between two reads.
            page.get_by_role("button", name="Save settings").wait_for()
            page.locator("[data-block]").first.wait_for()
            config, sim, state = page.evaluate(LAYOUT)
            if stacked:
                assert config["y"] + config["height"] <= sim["y"] <= state["y"]
            else:
                assert config["x"] + config["width"] <= sim["x"] < sim["x"] + sim["width"] <= state["x"]
                assert abs(config["y"] - sim["y"]) < 2 and abs(sim["y"] - state["y"]) < 2
            ui.shot()
        finally:
            checked(ui, context)
    # Keyboard: the tabs take focus and move with the arrow keys.
    ui, context = open_ui(browser, server.base_url, request.node.name + "-keys")
    try:
        page = ui.goto(f"/agents/{agent['id']}")
        page.locator(".log[data-ready=true]").wait_for()
        page.get_by_role("tab", name="Settings").focus()
        page.keyboard.press("ArrowRight")
        tab = page.get_by_role("tab", name="Tools", exact=True)
        assert tab.get_attribute("aria-selected") == "true"
        assert page.evaluate("() => document.activeElement.textContent") == "Tools"
        page.get_by_role("tabpanel", name="Tools").get_by_role("button", name="New custom tool").wait_for()
    finally:
        checked(ui, context)
