"""Letta's ``fetch_webpage`` tool (Letta 0.12+; Letta Code attaches it to its agents).

GET the URL (http or https only; ``services.http_timeout_s`` bounds the whole fetch; at most
``MAX_BYTES`` read) and return its text: HTML is reduced to readable text (scripts, styles and tags
dropped, block elements as line breaks), anything else textual is returned as is. A failure is a tool
error naming it, never an exception.
"""

from __future__ import annotations

import logging
from html.parser import HTMLParser
from typing import Any
from urllib.parse import urlparse

import anyio
import httpx

from builtin_tools.ports import ToolContext
from builtin_tools.schemas import BuiltinTool, ToolOutput, make_schema

logger = logging.getLogger(__name__)

MAX_BYTES = 2_000_000
MAX_CHARS = 20_000
_BLOCKS = {"p", "div", "br", "li", "tr", "h1", "h2", "h3", "h4", "h5", "h6", "pre", "section", "article", "header",
           "footer", "table", "ul", "ol", "blockquote"}


class _Text(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag: str, attrs: Any) -> None:
        if tag in ("script", "style", "noscript", "template"):
            self._skip += 1
        elif tag in _BLOCKS:
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style", "noscript", "template") and self._skip:
            self._skip -= 1
        elif tag in _BLOCKS:
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        if not self._skip:
            self.parts.append(data)


def html_text(html: str) -> str:
    parser = _Text()
    parser.feed(html)
    lines = (" ".join(line.split()) for line in "".join(parser.parts).splitlines())
    return "\n".join(line for line in lines if line)


async def _fetch(args: dict[str, Any], ctx: ToolContext) -> ToolOutput:
    url = str(args["url"]).strip()
    if urlparse(url).scheme not in ("http", "https"):
        return ToolOutput.error(f"fetch_webpage needs an http(s) URL, got {url!r}.")
    timeout_s = ctx.services.http_timeout_s
    try:
        with anyio.fail_after(timeout_s + 1):
            async with httpx.AsyncClient(timeout=timeout_s, follow_redirects=True) as client:
                async with client.stream("GET", url, headers={"User-Agent": "agenthost fetch_webpage"}) as response:
                    body = b""
                    async for chunk in response.aiter_bytes():
                        body += chunk
                        if len(body) >= MAX_BYTES:
                            break
                    status, kind, encoding = response.status_code, response.headers.get("content-type", ""), \
                        response.encoding or "utf-8"
    except (httpx.HTTPError, TimeoutError) as err:
        logger.warning("fetch_webpage for agent %s failed: %s", ctx.agent_id, err)
        return ToolOutput.error(f"Fetching {url} failed: {type(err).__name__}: {err}")
    if status >= 400:
        return ToolOutput.error(f"Fetching {url} answered HTTP {status}.")
    text = body.decode(encoding, errors="replace")
    if "html" in kind or text.lstrip()[:1] == "<":
        text = html_text(text)
    if len(text) > MAX_CHARS:
        text = text[:MAX_CHARS] + f"\n[... cut at {MAX_CHARS} characters]"
    return ToolOutput.success(text)


FETCH_WEBPAGE_DESCRIPTION = "Fetch a webpage and return its content as readable text."

FETCH_WEBPAGE_TOOL = BuiltinTool(
    name="fetch_webpage",
    tool_type="letta_builtin",
    tags=("letta_builtin",),
    description=FETCH_WEBPAGE_DESCRIPTION,
    json_schema=make_schema("fetch_webpage", FETCH_WEBPAGE_DESCRIPTION,
                            {"url": {"type": "string", "description": "The URL of the webpage to fetch."}}, ["url"]),
    impl=_fetch,
)
