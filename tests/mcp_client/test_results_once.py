"""A tool result that carries the same data as text and as structuredContent reaches the model once."""

from __future__ import annotations

import sys
from pathlib import Path

import mcp_types as types
import pytest

from mcp_client import McpPool, McpServerConfig
from mcp_client.results import convert_result
from tests.mcp_client.mcp_peers import FAST

NOTES_SERVER = Path(__file__).with_name("sdk_notes_server.py")


def _text(*texts: str, structured: object) -> str:
    content = [types.TextContent(text=t) for t in texts]
    return convert_result(types.CallToolResult(content=content, structured_content=structured), 1.0).text


@pytest.mark.parametrize(("texts", "structured", "expected"), [
    (["hello notes\n"], {"content": "hello notes\n"}, "hello notes\n"),
    (["hello notes\n"], {"result": "hello notes"}, "hello notes\n"),
    (["42"], {"result": 42}, "42"),
    (["a.md", "b.md"], {"result": ["a.md", "b.md"]}, "a.md\nb.md"),
    (['{"a": 1}'], {"a": 1}, '{"a": 1}'),
    # different data: both are shown
    (["3 notes found"], {"count": 3}, '3 notes found\n{"count": 3}'),
    (["hello"], {"content": "goodbye"}, 'hello\n{"content": "goodbye"}'),
    (["a.md"], {"result": ["a.md", "b.md"]}, 'a.md\n{"result": ["a.md", "b.md"]}'),
    ([], {"result": "only structured"}, '{"result": "only structured"}'),
])
def test_structured_content_is_added_only_when_the_text_lacks_it(texts, structured, expected) -> None:
    assert _text(*texts, structured=structured) == expected


@pytest.mark.anyio
async def test_an_sdk_servers_plain_return_values_reach_the_model_once() -> None:
    config = McpServerConfig(name="notes", transport="stdio", command=sys.executable, args=[str(NOTES_SERVER)])
    async with McpPool([config], settings=FAST) as pool:
        assert (await pool.wait_ready("notes", 20)).state == "ready"
        read = await pool.call_tool("notes", "read_notes", {})
        listed = await pool.call_tool("notes", "list_notes", {})
        weather = await pool.call_tool("notes", "weather", {})
    assert read.structured == {"result": "hello notes\n"} and read.text == "hello notes\n"
    assert listed.text.count("a.md") == 1
    assert weather.text.count("21.5") == 1 and weather.structured == {"temperature": 21.5, "unit": "C"}
