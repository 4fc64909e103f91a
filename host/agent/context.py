"""The context window: the prompt for one model call, the tools offered, and eviction + summary.

When the in-context history passes the agent's context window, the oldest messages leave the context
(they stay in the database, searchable with ``conversation_search``) and a summary message takes
their place. Tool calls and their returns leave together.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from builtin_tools import get_builtin, with_heartbeat
from host import llm
from host.agent.turn import AgentSnapshot
from host.domain.messages import StoredMessage
from host.ids import new_id, utcnow
from host.llm import ChatMessage, ToolCall, ToolSpec, count_tokens
from host.llm.providers import ProviderSettings
from host.tools.dispatcher import ToolInfo

logger = logging.getLogger(__name__)

INNER_THOUGHTS = "inner_thoughts"
INNER_THOUGHTS_DESCRIPTION = "Deep inner monologue private to you only."
EVICT_TRIGGER = 0.9  # share of the window that triggers eviction
EVICT_TARGET = 0.5  # share of the window kept after eviction


def tool_specs(snap: AgentSnapshot, allowed: frozenset[str], terminal: set[str]) -> list[ToolSpec]:
    specs = []
    for tool in snap.tools:
        if tool.name not in allowed:
            continue
        schema = _model_schema(tool, heartbeat=tool.name not in terminal and not snap.v1_loop,
                               inner=bool(snap.llm.put_inner_thoughts_in_kwargs) and not snap.v1_loop)
        specs.append(ToolSpec(name=tool.name, description=schema.get("description") or "",
                              parameters=schema.get("parameters") or {"type": "object", "properties": {}}))
    return specs


def _model_schema(tool: ToolInfo, *, heartbeat: bool, inner: bool) -> dict[str, Any]:
    """The schema the model is offered for ``tool``: a fresh copy each time (a provider's library may edit it)."""
    if tool.tool_type.startswith("letta") and get_builtin(tool.name) is not None:
        return json.loads(_builtin_schema_text(tool.name, heartbeat, inner))  # one parse, not two deep copies
    return _shaped(tool.json_schema, heartbeat=heartbeat, inner=inner)


@lru_cache(maxsize=256)
def _builtin_schema_text(name: str, heartbeat: bool, inner: bool) -> str:
    """A built-in tool's offered schema as JSON text (built-in schemas are constants of the code)."""
    builtin = get_builtin(name)
    assert builtin is not None
    return json.dumps(_shaped(builtin.json_schema, heartbeat=heartbeat, inner=inner))


def _shaped(source: dict[str, Any], *, heartbeat: bool, inner: bool) -> dict[str, Any]:
    schema = with_heartbeat(source) if heartbeat else json.loads(json.dumps(source))  # (both copy it)
    if inner:
        params = schema.setdefault("parameters", {"type": "object", "properties": {}})
        props = params.setdefault("properties", {})
        params["properties"] = {INNER_THOUGHTS: {"type": "string", "description": INNER_THOUGHTS_DESCRIPTION},
                                **props}
        required = list(params.get("required") or [])
        if INNER_THOUGHTS not in required:
            params["required"] = [INNER_THOUGHTS] + required
    return schema


@dataclass
class _Derived:
    """What the prompt needs of one stored message, computed once: a message does not change while it
    is in a context (an edited message is read back as a new object); ``source`` is the text it was
    derived from, checked by identity."""

    source: str | None
    chat: ChatMessage
    bound: int  # an upper bound of its tokens (see _bound)
    tokens: int | None = None  # its tokens, counted when first needed


def _chat_of(m: StoredMessage) -> ChatMessage:
    if m.role == "assistant":
        thinking = tuple(m.thinking_blocks)
        # A reply that was all reasoning is stored with that reasoning as its text: it goes back as the
        # signed blocks only, not a second time as text.
        said = "".join(b.get("thinking", "") for b in thinking)
        content = None if thinking and m.text == said else m.text
        return ChatMessage(role="assistant", content=content, thinking_blocks=thinking, tool_calls=tuple(
            ToolCall(id=c.id, name=c.name, arguments_json=c.arguments) for c in m.tool_calls))
    if m.role == "tool":
        return ChatMessage(role="tool", content=m.text or "", tool_call_id=m.tool_call_id)
    return ChatMessage(role=m.role, content=m.text or "", name=m.name if m.role == "user" else None)


def _derived(m: StoredMessage) -> _Derived:
    d = m.derived
    if not isinstance(d, _Derived) or d.source is not m.text:
        chat = _chat_of(m)
        d = m.derived = _Derived(source=m.text, chat=chat, bound=_bound(chat))
    return d


def to_chat(messages: Sequence[StoredMessage], system_text: str) -> list[ChatMessage]:
    return [ChatMessage(role="system", content=system_text)] + [_derived(m).chat for m in messages
                                                               if m.role != "system"]


def _size(text: str | None) -> int:
    if not text:
        return 0
    return len(text) if text.isascii() else len(text.encode())


def _bound(m: ChatMessage) -> int:
    """An upper bound of a message's tokens without tokenizing: its UTF-8 bytes (a byte-level BPE token is
    at least one byte), plus the per-message overhead."""
    return _size(m.content) + sum(_size(c.arguments_json) + _size(c.name) + 3 for c in m.tool_calls) + 8


def _tools_text(tools: Sequence[ToolSpec]) -> str:
    return json.dumps([{"name": t.name, "description": t.description, "parameters": t.parameters} for t in tools])


@lru_cache(maxsize=512)
def _text_tokens(model: str, text: str) -> int:
    return count_tokens(model, text=text)


def _message_tokens(model: str, m: StoredMessage) -> int:
    d = _derived(m)
    if d.tokens is None:
        d.tokens = count_tokens(model, [d.chat]) - 3  # count_tokens adds 3 per list for the reply
    return d.tokens


def prompt_tokens(model: str, system_text: str, context: Sequence[StoredMessage], tools_text: str) -> int:
    """The prompt's tokens as ``count_tokens`` counts them, from per-message counts kept between steps;
    ``tools_text`` is the tool schemas as ``_tools_text`` renders them."""
    system = count_tokens(model, [ChatMessage(role="system", content=system_text)])
    return system + sum(_message_tokens(model, m) for m in context if m.role != "system") + \
        _text_tokens(model, tools_text)


def needs_eviction(tokens: int, window: int) -> bool:
    return tokens > int(window * EVICT_TRIGGER)


def split_for_eviction(history: Sequence[StoredMessage], model: str, window: int,
                       fixed_tokens: int) -> tuple[list[StoredMessage], list[StoredMessage]]:
    """(evicted, kept): evict the oldest messages until the rest fits the target share of the window.

    ``history`` excludes the system message. The cut lands before a user message so that no tool
    return is separated from its call. The newest user message always stays.
    """
    budget = max(0, int(window * EVICT_TARGET) - fixed_tokens)
    sizes = [count_tokens(model, text=json.dumps(m.to_openai())) + 4 for m in history]
    keep_from = len(history)
    total = 0
    for i in range(len(history) - 1, -1, -1):
        total += sizes[i]
        if total > budget:
            break
        keep_from = i
    return _cut(history, keep_from, keep_last_user=True)


def split_keeping(history: Sequence[StoredMessage], keep: int) -> tuple[list[StoredMessage], list[StoredMessage]]:
    """(evicted, kept) keeping at most the ``keep`` newest messages (an explicit summarize), cut at a user
    message as eviction cuts."""
    return _cut(history, max(0, len(history) - keep), keep_last_user=False)


def _cut(history: Sequence[StoredMessage], keep_from: int, *, keep_last_user: bool
         ) -> tuple[list[StoredMessage], list[StoredMessage]]:
    # move the cut forward to a user message boundary
    while keep_from < len(history) and history[keep_from].role != "user":
        keep_from += 1
    if keep_from >= len(history) and keep_last_user:
        last_user = max((i for i, m in enumerate(history) if m.role == "user"), default=len(history) - 1)
        keep_from = last_user
    return list(history[:keep_from]), list(history[keep_from:])


def summary_prompt(evicted: Sequence[StoredMessage]) -> list[ChatMessage]:
    lines = []
    for m in evicted:
        text = m.text or ""
        if m.tool_calls:
            text += " " + " ".join(f"[{c.name}({c.arguments})]" for c in m.tool_calls)
        lines.append(f"{m.role}: {text.strip()}")
    transcript = "\n".join(lines)[-24000:]
    return [
        ChatMessage(role="system", content=(
            "You summarise a conversation between an AI agent and a user so the agent can keep going after "
            "these messages leave its context window. Write a concise summary (under 150 words) of the facts, "
            "decisions and open questions. Write only the summary.")),
        ChatMessage(role="user", content=transcript),
    ]


def fallback_summary(evicted: Sequence[StoredMessage]) -> str:
    users = [m.text for m in evicted if m.role == "user" and m.text][-5:]
    return "Earlier topics from the user: " + " | ".join(u[:200] for u in users) if users else "(no user messages)"


def summary_message_text(summary: str, evicted_count: int, total_hidden: int) -> str:
    return json.dumps({
        "type": "system_alert",
        "message": (f"Note: {evicted_count} prior messages ({total_hidden} total messages) have been hidden from "
                    f"view due to conversation memory constraints. They remain searchable with "
                    f"conversation_search. The following is a summary of the previous messages:\n{summary}"),
    }, indent=2)


async def write_summary(snap: AgentSnapshot, evicted: Sequence[StoredMessage], providers: ProviderSettings,
                        timeout_s: float) -> str:
    """A model-written summary of ``evicted`` (an extract if the model fails)."""
    try:
        resp = await llm.complete(llm.LlmRequest(config=snap.llm, messages=summary_prompt(evicted),
                                                 timeout_s=timeout_s), providers)
        return (resp.content or "").strip() or fallback_summary(evicted)
    except llm.LlmError as exc:
        logger.warning("summary for agent %s failed (%s); using an extract", snap.id, exc)
        return fallback_summary(evicted)


def summary_stored(agent_id: str, summary: str, evicted_count: int) -> StoredMessage:
    """The message that takes the place of ``evicted_count`` messages."""
    return StoredMessage(id=new_id("message"), agent_id=agent_id, role="user",
                         text=summary_message_text(summary, evicted_count, evicted_count), created_at=utcnow())


async def summary_note(snap: AgentSnapshot, evicted: Sequence[StoredMessage], providers: ProviderSettings,
                       timeout_s: float) -> StoredMessage:
    """The message that takes the place of ``evicted``: a model-written summary (an extract if the model
    fails)."""
    return summary_stored(snap.id, await write_summary(snap, evicted, providers, timeout_s), len(evicted))


async def fit_window(snap: AgentSnapshot, context: list[StoredMessage], sys_text: str, specs: list[ToolSpec],
                     providers: ProviderSettings, timeout_s: float) -> StoredMessage | None:
    """Evict the oldest messages from ``context`` (in place) when the prompt built from it passes the
    context window.

    Returns the summary message that takes their place (to be written with the step), or None.
    """
    window, model = snap.llm.context_window, snap.llm.model
    tools_text = _tools_text(specs)
    bound = _size(sys_text) + 8 + sum(_derived(m).bound for m in context) + _size(tools_text)
    if bound <= int(window * EVICT_TRIGGER):
        return None  # a token is at least one byte: no need to tokenize a prompt this small
    await llm.tokenizer_ready()  # loading the encoding blocks: never on the event loop
    tokens = prompt_tokens(model, sys_text, context, tools_text)
    if not needs_eviction(tokens, window):
        return None
    fixed = prompt_tokens(model, sys_text, [], tools_text)
    evicted, kept = split_for_eviction(context, model, window, fixed)
    if not evicted:
        return None
    note = await summary_note(snap, evicted, providers, timeout_s)
    context[:] = [note] + kept
    logger.info("agent %s: %d messages left the context window (%d tokens > %d)", snap.id, len(evicted), tokens,
                window)
    return note
