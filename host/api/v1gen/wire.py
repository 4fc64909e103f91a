"""The 1.x generation's wire shapes of the typed events (Letta 0.16.8), made at the HTTP edge.

0.8's LettaMessages gain ``seq_id`` and ``run_id`` after ``is_err``; a tool call message also carries its
call as the list ``tool_calls`` (so does an ``approval_request_message``), a tool return message its
return as ``tool_returns``; ``usage_statistics`` gains the cache/reasoning/context token counts; a stream
may open with a ``ping``. Only shapes live here: the byte encoding is ``host.api.sse``.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from host.domain.events import ErrorEvent, LettaMessageEvent, TurnEvent, UsageEvent
from host.domain.letta import (
    ApprovalRequestMessage,
    ErrorMessage,
    LettaMessage,
    Ping,
    StopReason,
    ToolCallMessage,
    ToolReturnMessage,
    UsageStatistics,
)


def v1_message(msg: LettaMessage | Ping, run_id: str | None, seq_id: int | None = None) -> dict[str, Any]:
    """One LettaMessage as Letta 0.16 writes it."""
    out = msg.envelope()
    out["seq_id"] = seq_id
    out["run_id"] = run_id
    out.update(msg.body())
    if isinstance(msg, (ToolCallMessage, ApprovalRequestMessage)):
        out["tool_calls"] = [msg.tool_call.to_json()]
    elif isinstance(msg, ToolReturnMessage):
        out["tool_returns"] = [{"type": "tool", "tool_return": msg.tool_return, "status": msg.status,
                                "tool_call_id": msg.tool_call_id, "stdout": msg.stdout, "stderr": msg.stderr}]
    return out


def v1_usage(usage: UsageStatistics) -> dict[str, Any]:
    """``usage_statistics`` as Letta 0.16 writes it (we count no cached or reasoning tokens: 0)."""
    return {"message_type": usage.message_type, "completion_tokens": usage.completion_tokens,
            "prompt_tokens": usage.prompt_tokens, "total_tokens": usage.total_tokens,
            "step_count": usage.step_count, "run_ids": usage.run_ids, "cached_input_tokens": 0,
            "cache_write_tokens": 0, "reasoning_tokens": 0, "context_tokens": None}


def v1_error(error: ErrorMessage, run_id: str | None, seq_id: int | None = None) -> dict[str, Any]:
    return {**error.to_json(), "run_id": error.run_id or run_id, "seq_id": seq_id}


def ping(run_id: str | None, seq_id: int | None = None) -> dict[str, Any]:
    """Letta's ``ping`` message (a stream's first event; keeps proxies from closing an idle stream)."""
    now = datetime.now(UTC).replace(microsecond=0).isoformat()
    return v1_message(Ping(id=f"ping-{uuid.uuid4()}", date=now), run_id, seq_id)


def v1_payload(event: TurnEvent, run_id: str | None, seq_id: int | None = None) -> dict[str, Any]:
    """The 1.x payload of one typed event (``seq_id`` only on messages, as Letta numbers them)."""
    if isinstance(event, LettaMessageEvent):
        return v1_message(event.message, run_id, seq_id)
    if isinstance(event, ErrorEvent):
        return v1_error(event.error, run_id, seq_id)
    if isinstance(event, UsageEvent):
        return v1_usage(event.usage)
    return event.stop.to_json()


def v1_response(messages: list[LettaMessage], stop: StopReason, usage: UsageStatistics,
                run_id: str | None) -> dict[str, Any]:
    """A synchronous ``LettaResponse`` in 1.x shape."""
    return {"messages": [v1_message(m, run_id) for m in messages], "stop_reason": stop.to_json(),
            "usage": v1_usage(usage), "logprobs": None, "turns": None}


__all__ = ["ping", "v1_error", "v1_message", "v1_payload", "v1_response", "v1_usage"]
