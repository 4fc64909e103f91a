"""Turn an MCP `CallToolResult` into an `McpToolResult` an agent can read.

Text stays text; `structuredContent` becomes JSON text (when no text block already carries it);
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
        if not any(isinstance(b, types.TextContent) and _same_json(b.text, structured) for b in result.content):
            parts.append(as_json)
    text = "\n".join(part for part in parts if part)
    status = "error" if result.is_error else "success"
    return McpToolResult(status=status, text=text, structured=structured, duration_ms=duration_ms)


def _same_json(text: str, value: Any) -> bool:
    try:
        return json.loads(text) == value
    except ValueError:
        return False
