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
from collections.abc import AsyncIterator

import anyio

from host.agent.event_pump import pump_events
from host.domain.events import Emit, StopReasonEvent, TurnEvent, UsageEvent
from host.domain.letta import StopReason
from host.errors import HostError
from host.schemas.messages import LettaStreamingRequest
from host.services.groups.turns import GroupTurns, Out

logger = logging.getLogger(__name__)


async def stream_group(turns: GroupTurns, group_id: str, body: LettaStreamingRequest) -> AsyncIterator[TurnEvent]:
    """Start the group turn and wait for its first event; the events follow as the members make them."""
    await turns.store.members(group_id)  # an unknown group is a 404 before anything starts
    scope = anyio.CancelScope()

    async def produce(emit: Emit) -> list[TurnEvent]:
        tail: list[TurnEvent] = []  # none when the client went away (the scope was cancelled)
        with scope:
            try:
                reply = await turns.send(group_id, body, Out(emit, body.stream_tokens))
            except Exception as exc:
                if not isinstance(exc, HostError):
                    logger.exception("streamed turn of group %s failed", group_id)
                raise
            tail = [StopReasonEvent(StopReason(reply.stop_reason)), UsageEvent(reply.usage.statistics(reply.run_ids))]
        return tail

    return await pump_events(turns.runner.start_soon, produce, scope.cancel, run_id=None)
