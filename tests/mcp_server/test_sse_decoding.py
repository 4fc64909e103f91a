"""The REST bridge's SSE decoder (``agenthost mcp --url``): events split on any line ending the SSE
specification allows, across chunk boundaries."""

from __future__ import annotations

import pytest

from mcp_server.backend import sse_payloads

EVENTS = [{"message_type": "assistant_message", "content": "hi"}, {"message_type": "stop_reason", "stop_reason": "end_turn"}]


def _wire(sep: str) -> str:
    return "".join(f"data: {{\"message_type\": \"{e['message_type']}\"}}{sep}{sep}" for e in EVENTS) + f"data: [DONE]{sep}{sep}"


@pytest.mark.parametrize("sep", ["\n", "\r\n", "\r"], ids=["lf", "crlf", "cr"])
def test_events_split_on_every_line_ending(sep: str) -> None:
    out, rest = sse_payloads(_wire(sep))
    assert [e["message_type"] for e in out] == ["assistant_message", "stop_reason"]
    assert "message_type" not in rest  # only [DONE] may wait: a last "\r" may be half of a "\r\n"


@pytest.mark.parametrize("sep", ["\n", "\r\n", "\r"], ids=["lf", "crlf", "cr"])
def test_events_arriving_one_character_at_a_time_decode_the_same(sep: str) -> None:
    buffer, seen = "", []
    for ch in _wire(sep):
        out, buffer = sse_payloads(buffer + ch)
        seen.extend(out)
    assert [e["message_type"] for e in seen] == ["assistant_message", "stop_reason"]


def test_an_event_type_line_and_a_multi_line_data_field_decode() -> None:
    out, _ = sse_payloads('event: error\r\ndata: {"message_type":\r\ndata: "error_message"}\r\n\r\n')
    assert out == [{"message_type": "error_message"}]
