"""A turn's events handed from the task that makes them to the response that sends them.

    events = await pump_events(start_soon, produce, cancel, run_id=run_id)
    async for event in events: ...

``produce(emit)`` runs in the task group ``start_soon`` belongs to (the lifespan's, not the response's): it
puts each event on an unbounded memory stream through ``emit`` and returns the events that close the
stream (the stop reason, the usage). ``pump_events`` waits for the first event, so a failure before it
raises (over HTTP an ordinary JSON error response); a failure after it becomes an ``ErrorEvent`` and the
stop reason ``error``. A consumer that goes away (its response task cancelled, or the stream closed) calls
``cancel``, which stops the producer. One agent's stream (``Runner.stream``) and a group's
(``host.services.groups.stream``) are both this.
"""

from __future__ import annotations

import math
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine, Sequence
from dataclasses import dataclass
from typing import Any

import anyio
from anyio.streams.memory import MemoryObjectReceiveStream

from host.domain.events import Emit, ErrorEvent, LettaMessageEvent, StopReasonEvent, TurnEvent
from host.domain.letta import ErrorMessage, StopReason
from host.errors import HostError

Produce = Callable[[Emit], Awaitable[Sequence[TurnEvent]]]
StartSoon = Callable[[Callable[[], Coroutine[Any, Any, None]]], None]


@dataclass(frozen=True)
class _Failed:
    """The producer raised: where an event would have been."""

    error: BaseException


def error_message(exc: BaseException, run_id: str | None) -> ErrorMessage:
    """What a client is told of a failure: a HostError's own words, anything else only its type."""
    if isinstance(exc, HostError):
        return ErrorMessage(run_id=run_id, error_type=type(exc).__name__, message=exc.detail, detail=exc.detail)
    return ErrorMessage(run_id=run_id, error_type="internal_error", message=f"Internal error: {type(exc).__name__}",
                        detail=None)


async def pump_events(start_soon: StartSoon, produce: Produce, cancel: Callable[[], None], *,
                      run_id: str | None) -> AsyncIterator[TurnEvent]:
    """Start ``produce`` and wait for its first event; the iterator returned yields it and those after it."""
    send, receive = anyio.create_memory_object_stream[TurnEvent | _Failed](math.inf)

    async def emit(event: LettaMessageEvent) -> None:
        try:
            await send.send(event)
        except anyio.BrokenResourceError:  # the consumer went away: stop the producer
            cancel()

    async def producer() -> None:
        with send:
            try:
                tail: Sequence[TurnEvent | _Failed] = await produce(emit)
            except Exception as exc:  # reported to the consumer; never a traceback on the wire
                tail = [_Failed(exc)]
            for item in tail:
                try:
                    await send.send(item)
                except anyio.BrokenResourceError:
                    return

    start_soon(producer)
    try:
        first = await receive.receive()
    except BaseException:
        cancel()
        receive.close()
        raise
    if isinstance(first, _Failed):
        receive.close()
        raise first.error
    return _drain(first, receive, cancel, run_id)


async def _drain(first: TurnEvent, receive: MemoryObjectReceiveStream[TurnEvent | _Failed],
                 cancel: Callable[[], None], run_id: str | None) -> AsyncIterator[TurnEvent]:
    with receive:
        try:
            yield first
            async for item in receive:
                if isinstance(item, _Failed):
                    yield ErrorEvent(error_message(item.error, run_id))
                    yield StopReasonEvent(StopReason("error"))
                else:
                    yield item
        finally:  # the end, or the consumer disconnected (the response task is cancelled)
            cancel()


__all__ = ["Produce", "StartSoon", "error_message", "pump_events"]
