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

_ENVELOPE = ("id", "date", "name", "message_type", "otid", "sender_id", "step_id", "is_err")
_CALL_LISTS = ("tool_call_message", "approval_request_message")


def v1_message(msg: dict[str, Any], run_id: str | None, seq_id: int | None = None) -> dict[str, Any]:
    """One LettaMessage as Letta 0.16 writes it."""
    out: dict[str, Any] = {k: msg.get(k) for k in _ENVELOPE}
    out["seq_id"] = seq_id
    out["run_id"] = msg.get("run_id") or run_id
    out.update((k, v) for k, v in msg.items() if k not in out)
    kind = msg.get("message_type")
    if kind in _CALL_LISTS and "tool_calls" not in msg:
        call = msg.get("tool_call")
        out["tool_calls"] = [call] if call else []
    elif kind == "tool_return_message" and "tool_returns" not in msg:
        out["tool_returns"] = [{"type": "tool", "tool_return": msg.get("tool_return"), "status": msg.get("status"),
                                "tool_call_id": msg.get("tool_call_id"), "stdout": msg.get("stdout"),
                                "stderr": msg.get("stderr")}]
    return out


def v1_usage(usage: dict[str, Any]) -> dict[str, Any]:
    """``usage_statistics`` as Letta 0.16 writes it (we count no cached or reasoning tokens: 0)."""
    out = {k: v for k, v in usage.items() if k != "steps_messages"}
    out.setdefault("run_ids", None)
    for key in ("cached_input_tokens", "cache_write_tokens", "reasoning_tokens"):
        out.setdefault(key, 0)
    out.setdefault("context_tokens", None)
    return out


def v1_error(msg: dict[str, Any], run_id: str | None, seq_id: int | None = None) -> dict[str, Any]:
    return {**msg, "run_id": msg.get("run_id") or run_id, "seq_id": seq_id}


def ping(run_id: str | None, seq_id: int | None = None) -> dict[str, Any]:
    """Letta's ``ping`` message (a stream's first event; keeps proxies from closing an idle stream)."""
    now = datetime.now(UTC).replace(microsecond=0).isoformat()
    return {"id": f"ping-{uuid.uuid4()}", "date": now, "name": None, "message_type": "ping", "otid": None,
            "sender_id": None, "step_id": None, "is_err": None, "seq_id": seq_id, "run_id": run_id}


def v1_payload(event: TurnEvent, run_id: str | None, seq_id: int | None = None) -> dict[str, Any]:
    """The 1.x payload of one typed event (``seq_id`` only on messages, as Letta numbers them)."""
    if isinstance(event, LettaMessageEvent):
        return v1_message(event.message, run_id, seq_id)
    if isinstance(event, ErrorEvent):
        return v1_error(event.message, run_id, seq_id)
    if isinstance(event, UsageEvent):
        return v1_usage(event.usage)
    return event.payload


def v1_response(result: dict[str, Any], run_id: str | None) -> dict[str, Any]:
    """A synchronous ``LettaResponse`` (0.8's ``as_letta()``) in 1.x shape."""
    return {"messages": [v1_message(m, run_id) for m in result["messages"]], "stop_reason": result["stop_reason"],
            "usage": v1_usage(result["usage"]), "logprobs": None, "turns": None}


__all__ = ["ping", "v1_error", "v1_message", "v1_payload", "v1_response", "v1_usage"]
