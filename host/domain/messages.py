"""Stored messages (the agent's OpenAI-shaped history) and their LettaMessage views.

One stored assistant message with reasoning and a tool call becomes several LettaMessages that share its
id and differ in ``otid`` (Letta derives the otid from the message id and the part's index).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

from host.domain.letta import (
    ApprovalRequestMessage,
    AssistantMessage,
    LettaMessage,
    ReasoningMessage,
    SystemMessage,
    ToolCall,
    ToolCallMessage,
    ToolReturnMessage,
    UserMessage,
)

Role = Literal["system", "user", "assistant", "tool"]

DEFAULT_ASSISTANT_TOOL = "send_message"
DEFAULT_ASSISTANT_KWARG = "message"


@dataclass
class ToolCallRecord:
    id: str
    name: str
    arguments: str  # JSON text, as the model produced it


@dataclass
class ToolReturnRecord:
    status: Literal["success", "error"]
    stdout: list[str] | None = None
    stderr: list[str] | None = None
    raw: str | None = None  # what the tool returned, before packaging for the model


@dataclass
class StoredMessage:
    id: str
    agent_id: str
    role: Role
    text: str | None = None
    name: str | None = None
    tool_calls: list[ToolCallRecord] = field(default_factory=list)
    tool_call_id: str | None = None
    tool_return: ToolReturnRecord | None = None
    model: str | None = None
    sender_id: str | None = None
    otid: str | None = None
    step_id: str | None = None
    run_id: str | None = None
    group_id: str | None = None
    created_at: datetime | None = None
    seq: int | None = None
    # An assistant message's signed reasoning as the provider returned it (see llm.ChatMessage).
    thinking_blocks: list[dict[str, Any]] = field(default_factory=list)
    # What the prompt derives from this message (host.agent.context keeps it here, computed once).
    derived: Any = field(default=None, repr=False, compare=False)

    def to_openai(self) -> dict[str, Any]:
        """The message as the chat-completions API wants it."""
        if self.role == "assistant":
            out: dict[str, Any] = {"role": "assistant", "content": self.text}
            if self.tool_calls:
                out["tool_calls"] = [
                    {"id": c.id, "type": "function", "function": {"name": c.name, "arguments": c.arguments}}
                    for c in self.tool_calls
                ]
            return out
        if self.role == "tool":
            return {"role": "tool", "tool_call_id": self.tool_call_id, "content": self.text or ""}
        out = {"role": self.role, "content": self.text or ""}
        if self.name and self.role == "user":
            out["name"] = self.name
        return out


def part_otid(message_id: str, index: int) -> str:
    """Letta's otid for the ``index``-th LettaMessage derived from one stored message."""
    base = message_id.split("-", 1)[1] if "-" in message_id else message_id
    return base[:-2] + f"{80 + index:02d}"[-2:]


def _date(msg: StoredMessage) -> str:
    ts = msg.created_at or datetime.utcnow()
    return ts.replace(microsecond=0).isoformat() + "+00:00"


def _envelope(msg: StoredMessage, otid: str | None) -> dict[str, Any]:
    return {"id": msg.id, "date": _date(msg), "name": msg.name, "otid": otid, "sender_id": msg.sender_id,
            "step_id": msg.step_id}


def _parse_args(arguments: str) -> dict[str, Any]:
    try:
        value = json.loads(arguments) if arguments else {}
    except json.JSONDecodeError:
        return {}
    return value if isinstance(value, dict) else {}


def letta_views(
    msg: StoredMessage,
    *,
    use_assistant_message: bool = True,
    assistant_tool: str = DEFAULT_ASSISTANT_TOOL,
    assistant_kwarg: str = DEFAULT_ASSISTANT_KWARG,
) -> list[LettaMessage]:
    """The typed LettaMessages one stored message shows as (none, one, or one per part)."""
    if msg.role == "system":
        return [SystemMessage(**_envelope(msg, msg.otid), content=msg.text or "")]
    if msg.role == "user":
        return [UserMessage(**_envelope(msg, msg.otid), content=msg.text or "")]
    if msg.role == "tool":
        ret = msg.tool_return or ToolReturnRecord(status="success")
        if use_assistant_message and msg.name == assistant_tool and ret.status == "success":
            return []  # the assistant_message already shows what send_message said (a refusal still shows)
        return [ToolReturnMessage(**_envelope(msg, msg.otid or part_otid(msg.id, 0)),
                                  tool_return=ret.raw if ret.raw is not None else (msg.text or ""),
                                  status=ret.status, tool_call_id=msg.tool_call_id or "",
                                  stdout=ret.stdout, stderr=ret.stderr)]
    if msg.text and not msg.tool_calls:
        # a plain-text answer (the model called no tool) is what the assistant said
        return [AssistantMessage(**_envelope(msg, part_otid(msg.id, 0)), content=msg.text)]
    out: list[LettaMessage] = []
    index = 0
    if msg.text:
        signed = next((b["signature"] for b in msg.thinking_blocks if b.get("signature")), None)
        out.append(ReasoningMessage(**_envelope(msg, part_otid(msg.id, index)),
                                    source="reasoner_model" if msg.thinking_blocks else "non_reasoner_model",
                                    reasoning=msg.text, signature=signed))
        index += 1
    for call in msg.tool_calls:
        args = _parse_args(call.arguments)
        said = args.get(assistant_kwarg)
        if use_assistant_message and call.name == assistant_tool and isinstance(said, str):
            out.append(AssistantMessage(**_envelope(msg, part_otid(msg.id, index)), content=said))
        else:
            out.append(ToolCallMessage(**_envelope(msg, part_otid(msg.id, index)),
                                       tool_call=ToolCall(name=call.name, arguments=call.arguments,
                                                          tool_call_id=call.id)))
        index += 1
    return out


def to_letta_messages(
    msg: StoredMessage,
    *,
    use_assistant_message: bool = True,
    assistant_tool: str = DEFAULT_ASSISTANT_TOOL,
    assistant_kwarg: str = DEFAULT_ASSISTANT_KWARG,
) -> list[dict[str, Any]]:
    """``letta_views`` in Letta's JSON shape (message listings)."""
    return [m.to_json() for m in letta_views(msg, use_assistant_message=use_assistant_message,
                                             assistant_tool=assistant_tool, assistant_kwarg=assistant_kwarg)]


def approval_request_message(msg: StoredMessage, call: ToolCallRecord, index: int) -> ApprovalRequestMessage:
    """Letta's ``approval_request_message``: a tool call that waits for the client's approval."""
    return ApprovalRequestMessage(**_envelope(msg, part_otid(msg.id, index)),
                                  tool_call=ToolCall(name=call.name, arguments=call.arguments, tool_call_id=call.id))


def pending_approval(context: list[StoredMessage]) -> tuple[StoredMessage, ToolCallRecord] | None:
    """The last assistant message's first tool call that has no return yet (a call paused for approval)."""
    for i in range(len(context) - 1, -1, -1):
        msg = context[i]
        if msg.role == "user":
            return None
        if msg.role == "assistant":
            answered = {m.tool_call_id for m in context[i + 1:] if m.role == "tool"}
            return next(((msg, c) for c in msg.tool_calls if c.id not in answered), None)
    return None
