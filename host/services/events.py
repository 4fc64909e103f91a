"""What a turn yields, for consumers above the loop that reach host through the services (the MCP server):
the typed events of ``host.domain.events`` and the Letta messages they carry (``host.domain.letta``)."""

from host.domain.events import ErrorEvent, LettaMessageEvent, RunEvents, StopReasonEvent, TurnEvent, UsageEvent
from host.domain.letta import (
    ApprovalRequestMessage,
    AssistantMessage,
    ErrorMessage,
    LettaMessage,
    ReasoningMessage,
    ToolCallMessage,
    ToolReturnMessage,
)

__all__ = ["ApprovalRequestMessage", "AssistantMessage", "ErrorEvent", "ErrorMessage", "LettaMessage",
           "LettaMessageEvent", "ReasoningMessage", "RunEvents", "StopReasonEvent", "ToolCallMessage",
           "ToolReturnMessage", "TurnEvent", "UsageEvent"]
