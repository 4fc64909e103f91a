"""What the MCP tools need from agenthost, as one small interface with two implementations.

    Backend (Protocol)
    ├── LocalBackend   host services in this process (``agenthost mcp``, and ``/mcp`` on the REST server)
    └── RestBackend    a running ``agenthost serve`` over REST (``agenthost mcp --url``)

Both speak Letta's JSON shapes (AgentState, Block, LettaMessage dicts) and turn them into the typed
carriers below; every failure the model can act on is a ``ToolFailure``.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

ProgressFn = Callable[[str, bool], Awaitable[None]]  # a turn's step as one line; True: a tool call failed


@dataclass(frozen=True)
class BlockInfo:
    label: str
    value: str
    limit: int
    description: str
    read_only: bool

    @classmethod
    def of(cls, raw: dict[str, Any]) -> BlockInfo:
        return cls(label=str(raw.get("label") or ""), value=str(raw.get("value") or ""),
                   limit=int(raw.get("limit") or 0), description=str(raw.get("description") or ""),
                   read_only=bool(raw.get("read_only")))

    def as_json(self) -> dict[str, Any]:
        return {"label": self.label, "value": self.value, "chars": len(self.value), "limit": self.limit,
                "description": self.description, "read_only": self.read_only}


@dataclass(frozen=True)
class AgentInfo:
    id: str
    name: str
    description: str | None
    model: str | None
    tools: list[str]
    blocks: list[BlockInfo]
    created_at: str | None = None

    @classmethod
    def of(cls, raw: dict[str, Any]) -> AgentInfo:
        llm = raw.get("llm_config") or {}
        memory = raw.get("memory") or {}
        return cls(id=str(raw["id"]), name=str(raw.get("name") or ""), description=raw.get("description"),
                   model=llm.get("handle") or llm.get("model"),
                   tools=[str(t.get("name")) for t in raw.get("tools") or []],
                   blocks=[BlockInfo.of(b) for b in memory.get("blocks") or []],
                   created_at=raw.get("created_at"))

    def summary(self) -> dict[str, Any]:
        return {"id": self.id, "name": self.name, "description": self.description, "model": self.model,
                "memory_blocks": [b.label for b in self.blocks]}

    def detail(self) -> dict[str, Any]:
        return {**self.summary(), "created_at": self.created_at, "tools": self.tools,
                "memory_blocks": [b.as_json() for b in self.blocks]}


@dataclass(frozen=True)
class ToolCallSummary:
    name: str
    arguments: str
    status: str | None = None
    result: str | None = None


@dataclass
class TurnReply:
    """One turn, as the caller of ``send_message_to_agent`` sees it."""

    assistant: list[str] = field(default_factory=list)
    tool_calls: list[ToolCallSummary] = field(default_factory=list)
    stop_reason: str | None = None
    error: str | None = None

    def said(self, content: str) -> None:
        self.assistant.append(content)

    def called(self, name: str, arguments: str) -> None:
        self.tool_calls.append(ToolCallSummary(name, arguments))

    def returned(self, status: str, result: str) -> None:
        """The return of the last call still waiting for one."""
        for i in range(len(self.tool_calls) - 1, -1, -1):
            if self.tool_calls[i].status is None:
                old = self.tool_calls[i]
                self.tool_calls[i] = ToolCallSummary(old.name, old.arguments, status, short(result))
                break

    def add(self, msg: dict[str, Any]) -> None:
        """One event of the turn in Letta's JSON (as the REST API sends it)."""
        kind = msg.get("message_type")
        if kind == "assistant_message":
            content = msg.get("content")
            self.said(content if isinstance(content, str) else json.dumps(content))
        elif kind == "tool_call_message":
            call = msg.get("tool_call") or {}
            self.called(str(call.get("name")), str(call.get("arguments") or ""))
        elif kind == "tool_return_message":
            self.returned(str(msg.get("status")), str(msg.get("tool_return") or ""))
        elif kind == "stop_reason":
            self.stop_reason = str(msg.get("stop_reason"))
        elif kind == "error_message":
            self.error = str(msg.get("message") or msg.get("detail") or "the turn failed")

    def render(self) -> str:
        lines = ["\n\n".join(self.assistant) if self.assistant else "(the agent sent no message this turn)"]
        if self.tool_calls:
            lines.append("\nTool calls this turn:")
            for c in self.tool_calls:
                status = f" -> {c.status}" if c.status else ""
                result = f": {c.result}" if c.result else ""
                lines.append(f"- {c.name}({short(c.arguments, 200)}){status}{result}")
        if self.stop_reason and self.stop_reason != "end_turn":
            lines.append(f"\n(stop reason: {self.stop_reason})")
        return "\n".join(lines)

    def as_json(self) -> dict[str, Any]:
        return {"assistant_messages": self.assistant, "stop_reason": self.stop_reason,
                "tool_calls": [{"name": c.name, "arguments": c.arguments, "status": c.status, "result": c.result}
                               for c in self.tool_calls]}


@dataclass(frozen=True)
class ToolRunOutcome:
    status: str  # "success" | "error"
    result: str
    stdout: list[str] | None = None
    stderr: list[str] | None = None

    def render(self) -> str:
        parts = [self.result]
        if self.stdout:
            parts.append("stdout:\n" + "".join(self.stdout))
        if self.stderr:
            parts.append("stderr:\n" + "".join(self.stderr))
        return "\n\n".join(p for p in parts if p)


def short(text: str, limit: int = 500) -> str:
    return text if len(text) <= limit else text[:limit] + "..."


def sse_payloads(buffer: str) -> tuple[list[Any], str]:
    """Complete ``data:`` events in ``buffer`` (parsed JSON), and the unparsed rest.

    Lines may end in ``\n``, ``\r\n`` or ``\r`` (the SSE specification allows all three); a ``\r`` at the
    very end may be the first half of a ``\r\n`` and waits for the next chunk."""
    out: list[Any] = []
    held = ""
    if buffer.endswith("\r"):
        buffer, held = buffer[:-1], "\r"
    buffer = buffer.replace("\r\n", "\n").replace("\r", "\n")
    while "\n\n" in buffer:
        event, buffer = buffer.split("\n\n", 1)
        data = "\n".join(line[5:].lstrip() for line in event.splitlines() if line.startswith("data:"))
        if not data or data == "[DONE]":
            continue
        try:
            out.append(json.loads(data))
        except json.JSONDecodeError:
            continue
    return out, buffer + held


def progress_note(msg: dict[str, Any]) -> str | None:
    """A one-line progress message for a LettaMessage, or None for messages not worth a notification."""
    kind = msg.get("message_type")
    if kind == "tool_call_message":
        return f"calling tool {(msg.get('tool_call') or {}).get('name')}"
    if kind == "tool_return_message":
        return f"tool returned ({msg.get('status')})"
    if kind == "reasoning_message":
        return "thinking: " + short(str(msg.get("reasoning") or ""), 120)
    if kind == "assistant_message":
        return "replying"
    return None


class Backend(Protocol):
    """The operations behind the agent and memory tools."""

    async def list_agents(self, query: str | None, limit: int) -> list[AgentInfo]: ...

    async def create_agent(self, *, name: str | None, model: str | None, persona: str, human: str,
                           description: str | None, include_base_tools: bool) -> AgentInfo: ...

    async def get_agent(self, agent_id: str) -> AgentInfo: ...

    async def send_message(self, agent_id: str, text: str, progress: ProgressFn | None) -> TurnReply: ...

    async def list_groups(self) -> list[dict[str, Any]]: ...

    async def send_group_message(self, group_id: str, text: str) -> TurnReply: ...

    async def blocks(self, agent_id: str) -> list[BlockInfo]: ...

    async def block(self, agent_id: str, label: str) -> BlockInfo: ...

    async def set_block(self, agent_id: str, label: str, value: str) -> BlockInfo: ...

    async def archival_insert(self, agent_id: str, text: str, tags: list[str] | None) -> str: ...

    async def archival_search(self, agent_id: str, query: str, top_k: int) -> list[dict[str, Any]]: ...

    async def history(self, agent_id: str, limit: int) -> list[dict[str, Any]]: ...

    async def search_history(self, agent_id: str, query: str, limit: int) -> list[dict[str, Any]]: ...

    async def list_tools(self) -> list[dict[str, Any]]: ...

    async def run_tool(self, source_code: str, args: dict[str, Any], env: dict[str, str],
                       pip: list[str]) -> ToolRunOutcome: ...


def history_entry(msg: dict[str, Any]) -> dict[str, Any] | None:
    """A LettaMessage reduced to what a reader of the history needs."""
    kind = msg.get("message_type")
    base = {"id": msg.get("id"), "date": msg.get("date"), "type": kind}
    if kind in ("user_message", "assistant_message", "system_message"):
        content = msg.get("content")
        return {**base, "text": content if isinstance(content, str) else json.dumps(content)}
    if kind == "reasoning_message":
        return {**base, "text": msg.get("reasoning")}
    if kind == "tool_call_message":
        call = msg.get("tool_call") or {}
        return {**base, "tool": call.get("name"), "arguments": call.get("arguments")}
    if kind == "tool_return_message":
        return {**base, "status": msg.get("status"), "text": short(str(msg.get("tool_return") or ""), 2000)}
    return None


__all__ = ["AgentInfo", "Backend", "BlockInfo", "ProgressFn", "ToolCallSummary", "ToolRunOutcome", "TurnReply",
           "history_entry", "progress_note", "short", "sse_payloads"]
