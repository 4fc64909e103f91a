"""fetch_webpage against a real loopback web server: HTML as text, errors as tool errors."""

from __future__ import annotations

import pytest
from starlette.applications import Starlette
from starlette.responses import HTMLResponse, PlainTextResponse
from starlette.routing import Route

from builtin_tools import CoreMemory, ToolContext, get_builtin
from tests.support.loopback import LoopbackServer

PAGE = """<html><head><title>T</title><style>p {color: red}</style><script>var x = 1;</script></head>
<body><h1>Pelicans</h1><p>They   fly &amp; fish.</p><ul><li>one</li><li>two</li></ul></body></html>"""


class _Ports:
    async def insert(self, text, tags):  # pragma: no cover - never reached
        raise AssertionError

    async def search(self, *args):  # pragma: no cover - never reached
        raise AssertionError


class Site(LoopbackServer):
    def __init__(self) -> None:
        super().__init__()

        async def page(_):  # type: ignore[no-untyped-def]
            return HTMLResponse(PAGE)

        async def missing(_):  # type: ignore[no-untyped-def]
            return PlainTextResponse("nope", status_code=404)

        self.app = Starlette(routes=[Route("/page", page), Route("/missing", missing)])


@pytest.mark.anyio
async def test_fetch_webpage_returns_readable_text_and_reports_failures_as_tool_errors():
    tool = get_builtin("fetch_webpage")
    assert tool is not None and tool.tool_type == "letta_builtin"
    ctx = ToolContext("agent-1", "a", CoreMemory(), _Ports(), _Ports())
    with Site() as site:
        ok = await tool.run({"url": f"{site.url}/page"}, ctx)
        missing = await tool.run({"url": f"{site.url}/missing"}, ctx)
    assert ok.status == "success"
    assert ok.text.splitlines() == ["T", "Pelicans", "They fly & fish.", "one", "two"]
    assert missing.status == "error" and "404" in missing.text
    bad = await tool.run({"url": "file:///etc/passwd"}, ctx)
    assert bad.status == "error" and "http(s)" in bad.text
