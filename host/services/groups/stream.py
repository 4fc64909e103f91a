"""A group turn as a stream of typed events (``host.domain.events``), handed out as the members make them.

Each speaking member's turn runs with an ``emit`` that puts its messages on a memory stream as its loop
produces them: whole messages, or with ``stream_tokens`` the model's token deltas, exactly as one agent's
stream (``Runner.stream``) does. After the last member: the group's stop reason and usage.

The turn runs in the runner's task group (the lifespan's), not in the response: the stream waits for the
first event, so a failure before it (an unknown group, a member's model failing at once) raises and
becomes an ordinary JSON error response. A failure after it is an ``error_message`` and the stop reason
``error``. A client that goes away cancels the group turn (the running member's run ends ``cancelled``;
the members after it do not speak).
"""

from __future__ import annotations

import logging
import math
from collections.abc import AsyncIterator
from dataclasses import dataclass

import anyio
from anyio.streams.memory import MemoryObjectReceiveStream, MemoryObjectSendStream

from host.agent.runner import error_message
from host.domain.events import ErrorEvent, LettaMessageEvent, StopReasonEvent, TurnEvent, UsageEvent
from host.domain.letta import StopReason
from host.errors import HostError
from host.schemas.messages import LettaStreamingRequest
from host.services.groups.turns import GroupTurns, Out

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class _Failed:
    error: BaseException


Item = TurnEvent | _Failed


async def stream_group(turns: GroupTurns, group_id: str, body: LettaStreamingRequest) -> AsyncIterator[TurnEvent]:
    """Start the group turn and wait for its first event; the events follow as the members make them."""
    await turns.store.members(group_id)  # an unknown group is a 404 before anything starts
    scope = anyio.CancelScope()
    send, receive = anyio.create_memory_object_stream[Item](math.inf)
    turns.runner.start_soon(lambda: _produce(turns, group_id, body, scope, send))
    try:
        first = await receive.receive()
    except BaseException:
        scope.cancel()
        receive.close()
        raise
    if isinstance(first, _Failed):
        receive.close()
        raise first.error
    return _drain(first, receive, scope)


async def _produce(turns: GroupTurns, group_id: str, body: LettaStreamingRequest, scope: anyio.CancelScope,
                   send: MemoryObjectSendStream[Item]) -> None:
    async def emit(event: LettaMessageEvent) -> None:
        try:
            await send.send(event)
        except anyio.BrokenResourceError:  # the client went away: stop the group turn
            scope.cancel()

    with send, scope:
        try:
            reply = await turns.send(group_id, body, Out(emit, body.stream_tokens))
            tail: list[Item] = [StopReasonEvent(StopReason(reply.stop_reason)),
                                 UsageEvent(reply.usage.statistics(reply.run_ids))]
        except Exception as exc:  # reported to the client; never a traceback on the wire
            if not isinstance(exc, HostError):
                logger.exception("streamed turn of group %s failed", group_id)
            tail = [_Failed(exc)]
        for item in tail:
            try:
                await send.send(item)
            except anyio.BrokenResourceError:
                return


async def _drain(first: TurnEvent, receive: MemoryObjectReceiveStream[Item], scope: anyio.CancelScope
                 ) -> AsyncIterator[TurnEvent]:
    with receive:
        try:
            yield first
            async for item in receive:
                if isinstance(item, _Failed):
                    yield ErrorEvent(error_message(item.error, None))
                    yield StopReasonEvent(StopReason("error"))
                else:
                    yield item
        finally:  # the end, or the client disconnected (the response task is cancelled)
            scope.cancel()
