"""The shell: served at / and the UI's own paths, never shadowing /v1 or /mcp; offline docs; login."""

from __future__ import annotations

import re
from typing import Any

import httpx

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
    srv = make_server({"SECURE": "true", "LETTA_SERVER_PASSWORD": "s3cret-pw"})
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
