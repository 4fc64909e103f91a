"""Turn an MCP `CallToolResult` into an `McpToolResult` an agent can read.

Text stays text; `structuredContent` becomes JSON text, unless the text blocks already carry the same data
(a text block holding that JSON, or — as SDK servers wrap a plain return value as `{"result": value}` —
a one-key object whose value is the text itself, or a list whose items are the text blocks): the model
sees each result once;
images, audio, embedded resources and resource links become short placeholders such as
`[image: image/png, 68 bytes]` - never raw base64.
"""

from __future__ import annotations

import base64
import binascii
import json
from typing import Any

import mcp_types as types

from mcp_client.carriers import McpToolResult


def _decoded_size(data: str) -> int:
    try:
        return len(base64.b64decode(data, validate=False))
    except (binascii.Error, ValueError):
        return len(data) * 3 // 4


def render_block(block: Any) -> str:
    if isinstance(block, types.TextContent):
        return block.text
    if isinstance(block, types.ImageContent):
        return f"[image: {block.mime_type}, {_decoded_size(block.data)} bytes]"
    if isinstance(block, types.AudioContent):
        return f"[audio: {block.mime_type}, {_decoded_size(block.data)} bytes]"
    if isinstance(block, types.ResourceLink):
        mime = f", {block.mime_type}" if block.mime_type else ""
        return f"[resource link: {block.name} <{block.uri}>{mime}]"
    if isinstance(block, types.EmbeddedResource):
        res = block.resource
        mime = res.mime_type or "unknown type"
        if isinstance(res, types.TextResourceContents):
            return f"[resource: {res.uri}, {mime}]\n{res.text}"
        return f"[resource: {res.uri}, {mime}, {_decoded_size(res.blob)} bytes]"
    kind = getattr(block, "type", type(block).__name__)
    return f"[{kind} content]"


def convert_result(result: types.CallToolResult, duration_ms: float) -> McpToolResult:
    parts = [render_block(block) for block in result.content]
    structured = result.structured_content
    if structured is not None:
        as_json = json.dumps(structured, ensure_ascii=False, sort_keys=True)
        if not _carried_by_text(result.content, structured):
            parts.append(as_json)
    text = "\n".join(part for part in parts if part)
    status = "error" if result.is_error else "success"
    return McpToolResult(status=status, text=text, structured=structured, duration_ms=duration_ms)


def _same_json(text: str, value: Any) -> bool:
    try:
        return json.loads(text) == value
    except ValueError:
        return False


def _same_value(text: str, value: Any) -> bool:
    if isinstance(value, str):
        return text.strip() == value.strip()
    return _same_json(text, value)


def _carried_by_text(content: list[Any], structured: Any) -> bool:
    """Whether the text blocks already say what `structured` says (so it is not repeated to the model)."""
    texts = [b.text for b in content if isinstance(b, types.TextContent)]
    if not texts:
        return False
    if any(_same_json(text, structured) for text in texts):
        return True
    if isinstance(structured, dict) and len(structured) == 1:
        (value,) = structured.values()
        if _same_value("\n".join(texts), value) or (len(texts) == 1 and _same_json(texts[0], value)):
            return True
        if isinstance(value, list) and len(value) == len(texts):
            return all(_same_value(text, item) for text, item in zip(texts, value, strict=False))
    return False
