"""CallToolResult -> McpToolResult rendering (pure)."""

from __future__ import annotations

import base64

import mcp_types as types

from mcp_client.results import convert_result


def test_structured_content_already_in_a_text_block_is_not_repeated() -> None:
    result = types.CallToolResult(content=[types.TextContent(text='{"a": 1}')], structured_content={"a": 1})
    converted = convert_result(result, 1.0)
    assert converted.text == '{"a": 1}' and converted.structured == {"a": 1}


def test_audio_blob_resources_never_show_base64() -> None:
    blob = base64.b64encode(b"\x00" * 300).decode()
    result = types.CallToolResult(
        content=[
            types.AudioContent(data=blob, mime_type="audio/wav"),
            types.EmbeddedResource(resource=types.BlobResourceContents(uri="file:///a.bin", blob=blob)),
        ],
        is_error=True,
    )
    converted = convert_result(result, 2.5)
    assert converted.status == "error" and converted.duration_ms == 2.5
    assert converted.text == "[audio: audio/wav, 300 bytes]\n[resource: file:///a.bin, unknown type, 300 bytes]"
    assert blob[:20] not in converted.text
