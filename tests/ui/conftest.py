"""Browser fixtures: real headless Chromium (Playwright, /usr/bin/chromium) against a real ``agenthost serve``.

Every page's requests are recorded by host; a request to any other host is aborted and fails the test
(the UI must work offline). Uncaught page errors fail the test too. Each test saves a screenshot of its
panel under ``$AGENTHOST_UI_SHOTS`` (default: ``<tmp>/agenthost-ui-shots``; never committed).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.ui.ui_support import CHROMIUM, TIMEOUT_MS, Ui, open_ui

playwright_sync = pytest.importorskip("playwright.sync_api", reason="pip install playwright==1.65.3 (the [test] extra)")
playwright_sync.expect.set_options(timeout=TIMEOUT_MS)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    if not Path(CHROMIUM).exists():
        pytest.skip(f"{CHROMIUM} is missing: apt-get install -y chromium (or set AGENTHOST_CHROMIUM)")
    with playwright_sync.sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"])
        yield b
        b.close()


def checked(handle: Ui, context: Any) -> None:
    print(f"--- the page's last API calls ({handle.name}) ---", *handle.calls[-40:],
          f"--- still unanswered: {sorted(handle.pending.values())}", sep="\n")
    try:
        assert not handle.foreign, f"the UI asked other hosts: {handle.foreign}"
        assert not handle.errors, f"uncaught errors in the page: {handle.errors}"
    finally:
        context.close()


@pytest.fixture
def ui(browser: Any, server: Any, request: pytest.FixtureRequest) -> Iterator[Ui]:
    handle, context = open_ui(browser, server.base_url, request.node.name)
    yield handle
    checked(handle, context)


@pytest.fixture
def open_browser(browser: Any, request: pytest.FixtureRequest) -> Iterator[Any]:
    """Open a checked UI on another server: ``open_browser(base_url)``."""
    opened: list[tuple[Ui, Any]] = []

    def make(base_url: str, suffix: str = "") -> Ui:
        handle, context = open_ui(browser, base_url, request.node.name + suffix)
        opened.append((handle, context))
        return handle

    yield make
    for handle, context in opened:
        checked(handle, context)
