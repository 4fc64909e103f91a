"""Letta's messages as typed carriers: what the loop yields and what the wire encoders read.

    LettaMessage         one part of an agent's turn; all share Letta's envelope
                         (id, date, name, message_type, otid, sender_id, step_id, is_err)
      SystemMessage, UserMessage          content
      ReasoningMessage                    source, reasoning, signature
      AssistantMessage                    content
      ToolCallMessage                     tool_call (a ToolCall; a streamed chunk carries a fragment)
      ToolReturnMessage                   tool_return, status, tool_call_id, stdout, stderr
      ApprovalRequestMessage              tool_call, waiting for the client's approval
    ErrorMessage         a turn that failed after it started (``error_message``)
    StopReason           why the turn stopped (``stop_reason``)
    UsageStatistics      the turn's token counts (``usage_statistics``)
    Ping                 the 1.x generation's keep-alive (``ping``), a stream's first event

``to_json()`` is Letta 0.8's JSON shape, keys in Letta's order (the wire tests pin the bytes); the 1.x
generation's shapes are made from the same attributes in ``host.api.v1gen.wire``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar, Literal


@dataclass(frozen=True, kw_only=True)
class ToolCall:
    name: str | None  # None on a streamed chunk after the first
    arguments: str  # JSON text as the model wrote it (a fragment, on a streamed chunk)
    tool_call_id: str | None

    def to_json(self) -> dict[str, Any]:
        return {"name": self.name, "arguments": self.arguments, "tool_call_id": self.tool_call_id}


@dataclass(frozen=True, kw_only=True)
class _Envelope:
    message_type: ClassVar[str]
    id: str
    date: str
    name: str | None = None
    otid: str | None = None
    sender_id: str | None = None
    step_id: str | None = None
    is_err: bool | None = None

    def envelope(self) -> dict[str, Any]:
        return {"id": self.id, "date": self.date, "name": self.name, "message_type": self.message_type,
                "otid": self.otid, "sender_id": self.sender_id, "step_id": self.step_id, "is_err": self.is_err}

    def body(self) -> dict[str, Any]:
        """The fields after the envelope, in Letta's order."""
        raise NotImplementedError

    def to_json(self) -> dict[str, Any]:
        return {**self.envelope(), **self.body()}


@dataclass(frozen=True, kw_only=True)
class SystemMessage(_Envelope):
    message_type: ClassVar[str] = "system_message"
    content: str

    def body(self) -> dict[str, Any]:
        return {"content": self.content}


@dataclass(frozen=True, kw_only=True)
class UserMessage(_Envelope):
    message_type: ClassVar[str] = "user_message"
    content: str

    def body(self) -> dict[str, Any]:
        return {"content": self.content}


@dataclass(frozen=True, kw_only=True)
class ReasoningMessage(_Envelope):
    message_type: ClassVar[str] = "reasoning_message"
    source: Literal["reasoner_model", "non_reasoner_model"] = "non_reasoner_model"
    reasoning: str
    signature: str | None = None

    def body(self) -> dict[str, Any]:
        return {"source": self.source, "reasoning": self.reasoning, "signature": self.signature}


@dataclass(frozen=True, kw_only=True)
class AssistantMessage(_Envelope):
    message_type: ClassVar[str] = "assistant_message"
    content: str

    def body(self) -> dict[str, Any]:
        return {"content": self.content}


@dataclass(frozen=True, kw_only=True)
class ToolCallMessage(_Envelope):
    message_type: ClassVar[str] = "tool_call_message"
    tool_call: ToolCall

    def body(self) -> dict[str, Any]:
        return {"tool_call": self.tool_call.to_json()}


@dataclass(frozen=True, kw_only=True)
class ApprovalRequestMessage(_Envelope):
    message_type: ClassVar[str] = "approval_request_message"
    tool_call: ToolCall

    def body(self) -> dict[str, Any]:
        return {"tool_call": self.tool_call.to_json()}


@dataclass(frozen=True, kw_only=True)
class ToolReturnMessage(_Envelope):
    message_type: ClassVar[str] = "tool_return_message"
    tool_return: str
    status: Literal["success", "error"]
    tool_call_id: str
    stdout: list[str] | None = None
    stderr: list[str] | None = None

    def body(self) -> dict[str, Any]:
        return {"tool_return": self.tool_return, "status": self.status, "tool_call_id": self.tool_call_id,
                "stdout": self.stdout, "stderr": self.stderr}


@dataclass(frozen=True, kw_only=True)
class Ping(_Envelope):
    """The 1.x generation's keep-alive, a stream's first event: the envelope alone."""

    message_type: ClassVar[str] = "ping"

    def body(self) -> dict[str, Any]:
        return {}


LettaMessage = (SystemMessage | UserMessage | ReasoningMessage | AssistantMessage | ToolCallMessage
                | ApprovalRequestMessage | ToolReturnMessage)


@dataclass(frozen=True, kw_only=True)
class ErrorMessage:
    message_type: ClassVar[str] = "error_message"
    run_id: str | None
    error_type: str
    message: str
    detail: str | None

    def to_json(self) -> dict[str, Any]:
        return {"message_type": self.message_type, "run_id": self.run_id, "error_type": self.error_type,
                "message": self.message, "detail": self.detail}


@dataclass(frozen=True)
class StopReason:
    message_type: ClassVar[str] = "stop_reason"
    stop_reason: str

    def to_json(self) -> dict[str, Any]:
        return {"message_type": self.message_type, "stop_reason": self.stop_reason}


@dataclass(frozen=True, kw_only=True)
class UsageStatistics:
    message_type: ClassVar[str] = "usage_statistics"
    completion_tokens: int = 0
    prompt_tokens: int = 0
    total_tokens: int = 0
    step_count: int = 0
    run_ids: list[str] | None = None

    def to_json(self) -> dict[str, Any]:
        return {"message_type": self.message_type, "completion_tokens": self.completion_tokens,
                "prompt_tokens": self.prompt_tokens, "total_tokens": self.total_tokens,
                "step_count": self.step_count, "steps_messages": None, "run_ids": self.run_ids}


__all__ = ["ApprovalRequestMessage", "AssistantMessage", "ErrorMessage", "LettaMessage", "Ping", "ReasoningMessage",
           "StopReason", "SystemMessage", "ToolCall", "ToolCallMessage", "ToolReturnMessage", "UsageStatistics",
           "UserMessage"]
