"""What a running turn yields, in order: Letta messages as the loop produces them, then how the turn ended.

    LettaMessageEvent   one LettaMessage (reasoning, assistant, tool call/return, approval request...)
    ErrorEvent          the turn failed after it started (Letta's ``error_message``)
    StopReasonEvent     why the turn stopped (``end_turn``, ``max_steps``, ``error``...)
    UsageEvent          the run's ``usage_statistics`` (absent after an error)

One stream, several encodings, each made at the edge that speaks it: SSE for the REST API
(``host.api.sse``), tool results and progress notifications for the MCP server, the reply text for
the multi-agent tools. Each event carries a typed Letta message (``host.domain.letta``); encoders read
its attributes (``to_json()`` is Letta 0.8's JSON shape).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass

from host.domain.letta import ErrorMessage, LettaMessage, StopReason, UsageStatistics


@dataclass(frozen=True)
class LettaMessageEvent:
    message: LettaMessage


@dataclass(frozen=True)
class ErrorEvent:
    error: ErrorMessage


@dataclass(frozen=True)
class StopReasonEvent:
    stop: StopReason

    @property
    def stop_reason(self) -> str:
        return self.stop.stop_reason


@dataclass(frozen=True)
class UsageEvent:
    usage: UsageStatistics


TurnEvent = LettaMessageEvent | ErrorEvent | StopReasonEvent | UsageEvent


@dataclass
class RunEvents:
    """A started run's events: ``async for`` them; ``run_id`` names the run (encoders stamp it on each event)."""

    run_id: str
    events: AsyncIterator[TurnEvent]

    def __aiter__(self) -> AsyncIterator[TurnEvent]:
        return self.events

    async def aclose(self) -> None:
        aclose = getattr(self.events, "aclose", None)
        if aclose is not None:
            await aclose()


Emit = Callable[[LettaMessageEvent], Awaitable[None]]  # how the loop hands each message out as it goes

__all__ = ["Emit", "ErrorEvent", "LettaMessageEvent", "RunEvents", "StopReasonEvent", "TurnEvent", "UsageEvent"]
