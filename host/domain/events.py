"""What a running turn yields, in order: Letta messages as the loop produces them, then how the turn ended.

    LettaMessageEvent   one LettaMessage (reasoning, assistant, tool call/return, approval request...)
    ErrorEvent          the turn failed after it started (Letta's ``error_message``)
    StopReasonEvent     why the turn stopped (``end_turn``, ``max_steps``, ``error``...)
    UsageEvent          the run's ``usage_statistics`` (absent after an error)

One stream, several encodings, each made at the edge that speaks it: SSE for the REST API
(``host.api.sse``), tool results and progress notifications for the MCP server, the reply text for
the multi-agent tools. ``payload`` is the Letta JSON shape of each event.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class LettaMessageEvent:
    message: dict[str, Any]

    @property
    def payload(self) -> dict[str, Any]:
        return self.message


@dataclass(frozen=True)
class ErrorEvent:
    message: dict[str, Any]  # {"message_type": "error_message", "run_id", "error_type", "message", "detail"}

    @property
    def payload(self) -> dict[str, Any]:
        return self.message


@dataclass(frozen=True)
class StopReasonEvent:
    stop_reason: str

    @property
    def payload(self) -> dict[str, Any]:
        return {"message_type": "stop_reason", "stop_reason": self.stop_reason}


@dataclass(frozen=True)
class UsageEvent:
    usage: dict[str, Any]  # {"message_type": "usage_statistics", ...}

    @property
    def payload(self) -> dict[str, Any]:
        return self.usage


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
