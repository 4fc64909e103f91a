"""Helpers of the browser tests: one browser context per test that records every request's host."""

from __future__ import annotations

import os
import tempfile
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx

CHROMIUM = os.environ.get("AGENTHOST_CHROMIUM", "/usr/bin/chromium")
SHOTS = Path(os.environ.get("AGENTHOST_UI_SHOTS") or Path(tempfile.gettempdir()) / "agenthost-ui-shots")
TIMEOUT_MS = 20_000
MODEL = "openai-proxy/gpt-4o-mini"
EMBEDDING = "openai/text-embedding-3-small"


@dataclass
class Ui:
    """One browser context on one server: its page, the hosts it asked for, and helpers."""

    base_url: str
    page: Any
    name: str
    foreign: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    hosts: set[str] = field(default_factory=set)
    # The page's API calls as they ended ("<status> <method> <path> <ms>", or a failure): printed when the
    # context closes, which pytest shows for a failing test only (what the page was waiting for)
    calls: list[str] = field(default_factory=list)
    pending: dict[int, str] = field(default_factory=dict)  # API calls still without an answer, by request

    def goto(self, path: str) -> Any:
        self.page.goto(self.base_url + path)
        return self.page

    def shot(self, label: str = "", target: Any = None) -> Path:
        SHOTS.mkdir(parents=True, exist_ok=True)
        path = SHOTS / f"{self.name}{'-' + label if label else ''}.png"
        (target or self.page).screenshot(path=str(path))
        return path

    def tab(self, tab_id: str) -> Any:
        self.page.locator(f"#tab-{tab_id}").click()
        panel = self.page.locator(f"#panel-{tab_id}")
        panel.wait_for(state="visible")
        return panel


def open_ui(browser: Any, base_url: str, name: str, *, viewport: dict[str, int] | None = None) -> tuple[Ui, Any]:
    context = browser.new_context(viewport=viewport or {"width": 1440, "height": 900}, accept_downloads=True)
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    ui = Ui(base_url=base_url, page=page, name=name)
    own = urlsplit(base_url).netloc

    def route(r: Any) -> None:
        netloc = urlsplit(r.request.url).netloc
        ui.hosts.add(netloc)
        if netloc != own:
            ui.foreign.append(r.request.url)
            r.abort()
        else:
            r.continue_()

    context.route("**/*", route)
    page.on("pageerror", lambda exc: ui.errors.append(str(exc)))

    def started(request: Any) -> None:
        path = urlsplit(request.url).path
        if path.startswith("/v1/"):
            ui.pending[id(request)] = f"{request.method} {path}"

    def ended(request: Any, outcome: str) -> None:
        call = ui.pending.pop(id(request), None)
        if call is not None:  # an API call
            took = (request.timing or {}).get("responseEnd", -1)
            ui.calls.append(f"{outcome} {call} {took:.0f} ms")

    def finished(request: Any) -> None:
        response = request.response()
        ended(request, str(response.status) if response is not None else "?")

    page.on("request", started)
    page.on("requestfinished", finished)
    page.on("requestfailed", lambda r: ended(r, f"failed ({r.failure})"))
    return ui, context


def make_agent(http: httpx.Client, **fields: Any) -> dict[str, Any]:
    body: dict[str, Any] = {"name": f"ui-{uuid.uuid4().hex[:8]}", "model": MODEL,
                            "embedding": EMBEDDING,
                            "memory_blocks": [{"label": "persona", "value": "I am a test agent."},
                                              {"label": "human", "value": "A tester."}]}
    body.update(fields)
    r = http.post("/v1/agents/", json=body)
    assert r.status_code == 200, r.text
    return r.json()
