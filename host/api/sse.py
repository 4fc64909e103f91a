"""A turn's events as Server-Sent Events, byte for byte as Letta 0.8.17 writes them.

One ``data: {json}\\n\\n`` per event (``host.domain.events``: LettaMessages, then ``stop_reason`` and
``usage_statistics``), ``event: error`` before an in-band ``error_message``, and ``data: [DONE]`` at the
end. letta-client reads the error as one more chunk and keeps going. Encoded with sse-starlette, which
also stops the stream (and so cancels the run) as soon as the client hangs up, even between events.
No keep-alive comments: Letta sends none.

The 1.x generation (Letta 0.16.8) is a second encoder over the same events (``v1_events``): shapes from
``host.api.v1gen.wire``, a ``ping`` first when pings are asked for, the same ``[DONE]`` at the end. A
background run's stream is its stored payloads (``payload_events``), already in 1.x shape.
"""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterable, AsyncIterator
from typing import Any

from sse_starlette import EventSourceResponse, ServerSentEvent

from host.api.v1gen.wire import ping, v1_payload
from host.domain.events import ErrorEvent, LettaMessageEvent, RunEvents, StopReasonEvent, TurnEvent
from host.domain.letta import AssistantMessage

SEP = "\n"  # Letta's line separator (sse-starlette's default is \r\n)


def _sse(payload: dict[str, Any]) -> ServerSentEvent:
    data = json.dumps(payload, ensure_ascii=False, separators=(",", ":"), default=str)
    return ServerSentEvent(data=data, event="error" if payload.get("message_type") == "error_message" else None,
                           sep=SEP)


def letta_payload(event: TurnEvent) -> dict[str, Any]:
    """Letta 0.8's JSON of one typed event."""
    if isinstance(event, LettaMessageEvent):
        return event.message.to_json()
    if isinstance(event, ErrorEvent):
        return event.error.to_json()
    if isinstance(event, StopReasonEvent):
        return event.stop.to_json()
    return event.usage.to_json()


def encode(event: TurnEvent) -> ServerSentEvent:
    return _sse(letta_payload(event))  # an ErrorEvent is an error_message: ``event: error`` before it


async def letta_events(events: AsyncIterable[TurnEvent]) -> AsyncIterator[ServerSentEvent]:
    async for event in events:
        yield encode(event)
    yield ServerSentEvent(data="[DONE]", sep=SEP)


async def v1_events(run: RunEvents, pings: bool) -> AsyncIterator[ServerSentEvent]:
    """The 1.x encoding of a run's events."""
    if pings:
        yield _sse(ping(run.run_id))
    async for event in run:
        yield _sse(v1_payload(event, run.run_id))
    yield ServerSentEvent(data="[DONE]", sep=SEP)


async def payload_events(payloads: AsyncIterator[dict[str, Any]]) -> AsyncIterator[ServerSentEvent]:
    """Payloads already encoded (a background run's stored events), then ``[DONE]``."""
    async for payload in payloads:
        yield _sse(payload)
    yield ServerSentEvent(data="[DONE]", sep=SEP)


def _chunk(completion_id: str, model: str, delta: dict[str, Any], finish: str | None = None) -> ServerSentEvent:
    return _sse({"id": completion_id, "object": "chat.completion.chunk", "created": int(time.time()), "model": model,
                 "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]})


async def chat_events(events: AsyncIterable[TurnEvent], completion_id: str, model: str
                      ) -> AsyncIterator[ServerSentEvent]:
    """The OpenAI chat-completion encoding of a turn's events: its assistant messages as content deltas."""
    yield _chunk(completion_id, model, {"role": "assistant", "content": ""})
    finish = "stop"
    async for event in events:
        if isinstance(event, LettaMessageEvent) and isinstance(event.message, AssistantMessage):
            yield _chunk(completion_id, model, {"content": event.message.content})
        elif isinstance(event, ErrorEvent):
            finish = "error"
    yield _chunk(completion_id, model, {}, finish)
    yield ServerSentEvent(data="[DONE]", sep=SEP)


def _response(chunks: AsyncIterator[ServerSentEvent]) -> EventSourceResponse:
    return EventSourceResponse(chunks, sep=SEP, ping=0, headers={"Cache-Control": "no-cache"})


def sse_response(events: AsyncIterable[TurnEvent]) -> EventSourceResponse:
    return _response(letta_events(events))


def v1_sse_response(run: RunEvents, pings: bool) -> EventSourceResponse:
    return _response(v1_events(run, pings))


def chat_sse_response(events: AsyncIterable[TurnEvent], completion_id: str, model: str) -> EventSourceResponse:
    return _response(chat_events(events, completion_id, model))


def payload_sse_response(payloads: AsyncIterator[dict[str, Any]]) -> EventSourceResponse:
    return _response(payload_events(payloads))


__all__ = ["chat_events", "chat_sse_response", "encode", "letta_events", "letta_payload", "payload_sse_response", "sse_response", "v1_events", "v1_sse_response"]
