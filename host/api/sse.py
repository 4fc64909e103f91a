"""A turn's events as Server-Sent Events, byte for byte as Letta 0.8.17 writes them.

One ``data: {json}\\n\\n`` per event (``host.domain.events``: LettaMessages, then ``stop_reason`` and
``usage_statistics``), ``event: error`` before an in-band ``error_message``, and ``data: [DONE]`` at the
end. letta-client reads the error as one more chunk and keeps going. Encoded with sse-starlette, which
also stops the stream (and so cancels the run) as soon as the client hangs up, even between events.
No keep-alive comments: Letta sends none.
"""

from __future__ import annotations

import json
from typing import AsyncIterator

from sse_starlette import EventSourceResponse, ServerSentEvent

from host.domain.events import ErrorEvent, TurnEvent

SEP = "\n"  # Letta's line separator (sse-starlette's default is \r\n)


def encode(event: TurnEvent) -> ServerSentEvent:
    data = json.dumps(event.payload, ensure_ascii=False, separators=(",", ":"), default=str)
    return ServerSentEvent(data=data, event="error" if isinstance(event, ErrorEvent) else None, sep=SEP)


async def letta_events(events: AsyncIterator[TurnEvent]) -> AsyncIterator[ServerSentEvent]:
    async for event in events:
        yield encode(event)
    yield ServerSentEvent(data="[DONE]", sep=SEP)


def sse_response(events: AsyncIterator[TurnEvent]) -> EventSourceResponse:
    return EventSourceResponse(letta_events(events), sep=SEP, ping=0, headers={"Cache-Control": "no-cache"})


__all__ = ["encode", "letta_events", "sse_response"]
