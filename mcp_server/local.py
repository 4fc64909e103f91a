"""The Backend over host services in this process (the database, the runner, the sandbox)."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from host.errors import HostError
from host.schemas.agents import CreateAgentRequest
from host.schemas.blocks import BlockUpdate, CreateBlock
from host.schemas.messages import LettaRequest, LettaStreamingRequest, MessageCreate
from host.services import Services
from host.services.events import (
    AssistantMessage,
    ErrorEvent,
    LettaMessage,
    LettaMessageEvent,
    ReasoningMessage,
    StopReasonEvent,
    ToolCallMessage,
    ToolReturnMessage,
    TurnEvent,
)
from mcp_server.backend import AgentInfo, BlockInfo, ProgressFn, ToolRunOutcome, TurnReply, history_entry, short
from mcp_server.errors import ToolFailure

logger = logging.getLogger(__name__)


def take(reply: TurnReply, event: TurnEvent) -> None:
    """One typed event of the turn into the reply the calling model reads."""
    if isinstance(event, StopReasonEvent):
        reply.stop_reason = event.stop_reason
    elif isinstance(event, ErrorEvent):
        reply.error = event.error.message or event.error.detail or "the turn failed"
    elif isinstance(event, LettaMessageEvent):
        msg = event.message
        if isinstance(msg, AssistantMessage):
            reply.said(msg.content)
        elif isinstance(msg, ToolCallMessage):
            reply.called(str(msg.tool_call.name), msg.tool_call.arguments)
        elif isinstance(msg, ToolReturnMessage):
            reply.returned(msg.status, msg.tool_return)


def progress_note(msg: LettaMessage) -> str | None:
    """A one-line progress message for a LettaMessage, or None for messages not worth a notification."""
    if isinstance(msg, ToolCallMessage):
        return f"calling tool {msg.tool_call.name}"
    if isinstance(msg, ToolReturnMessage):
        return f"tool returned ({msg.status})"
    if isinstance(msg, ReasoningMessage):
        return "thinking: " + short(msg.reasoning, 120)
    if isinstance(msg, AssistantMessage):
        return "replying"
    return None


@asynccontextmanager
async def host_errors() -> AsyncIterator[None]:
    """A host error (404 unknown agent, 422 bad input...) becomes a ToolFailure with the same message."""
    try:
        yield
    except HostError as exc:
        raise ToolFailure(exc.detail) from None


class LocalBackend:
    def __init__(self, services: Services) -> None:
        self.svc = services

    async def list_agents(self, query: str | None, limit: int) -> list[AgentInfo]:
        async with host_errors():
            states = await self.svc.agents.list(query_text=query or None, limit=limit)
        return [AgentInfo.of(s.model_dump(mode="json")) for s in states]

    async def _default_model(self) -> str:
        models = await self.svc.registry.list_llm_models()
        handles = [m.handle for m in models if m.handle]
        if not handles:
            raise ToolFailure("No model is configured on this server; pass `model` (a handle like "
                              "'openai/gpt-4o-mini') or set OPENAI_API_KEY / another provider key")
        return handles[0]

    async def create_agent(self, *, name: str | None, model: str | None, persona: str, human: str,
                           description: str | None, include_base_tools: bool) -> AgentInfo:
        async with host_errors():
            req = CreateAgentRequest(
                name=name, model=model or await self._default_model(), description=description,
                include_base_tools=include_base_tools,
                memory_blocks=[CreateBlock(label="persona", value=persona), CreateBlock(label="human", value=human)])
            state, _warnings = await self.svc.agents.create(req)
        return AgentInfo.of(state.model_dump(mode="json"))

    async def get_agent(self, agent_id: str) -> AgentInfo:
        async with host_errors():
            return AgentInfo.of((await self.svc.agents.get(agent_id)).model_dump(mode="json"))

    async def send_message(self, agent_id: str, text: str, progress: ProgressFn | None) -> TurnReply:
        reply = TurnReply()
        body = LettaStreamingRequest(messages=[MessageCreate(role="user", content=text)])
        async with host_errors():
            events = await self.svc.runner.stream(agent_id, body)  # typed events, no wire encoding in between
            async for event in events:
                take(reply, event)
                if progress is None or not isinstance(event, LettaMessageEvent):
                    continue
                msg = event.message
                note = progress_note(msg)
                if note is not None:
                    await progress(note, isinstance(msg, ToolReturnMessage) and msg.status == "error")
        if reply.error:
            raise ToolFailure(f"The agent's turn failed: {reply.error}")
        return reply

    async def list_groups(self) -> list[dict[str, Any]]:
        async with host_errors():
            return [g.model_dump(mode="json") for g in await self.svc.groups.store.list()]

    async def send_group_message(self, group_id: str, text: str) -> TurnReply:
        reply = TurnReply()
        async with host_errors():
            done = await self.svc.groups.turns.send(group_id, LettaRequest(messages=[MessageCreate(role="user",
                                                                                                    content=text)]))
        for message in done.messages:
            take(reply, LettaMessageEvent(message))
        reply.stop_reason = done.stop_reason
        return reply

    async def blocks(self, agent_id: str) -> list[BlockInfo]:
        async with host_errors():
            return [BlockInfo.of(b.model_dump(mode="json")) for b in await self.svc.memory.blocks(agent_id)]

    async def block(self, agent_id: str, label: str) -> BlockInfo:
        async with host_errors():
            return BlockInfo.of((await self.svc.memory.block(agent_id, label)).model_dump(mode="json"))

    async def set_block(self, agent_id: str, label: str, value: str) -> BlockInfo:
        async with host_errors():
            block = await self.svc.memory.modify_block(agent_id, label, BlockUpdate(value=value))
        return BlockInfo.of(block.model_dump(mode="json"))

    async def archival_insert(self, agent_id: str, text: str, tags: list[str] | None) -> str:
        async with host_errors():
            return (await self.svc.archival.insert(agent_id, text, tags))[0].id

    async def archival_search(self, agent_id: str, query: str, top_k: int) -> list[dict[str, Any]]:
        async with host_errors():
            hits = await self.svc.archival.search(agent_id, query, top_k=top_k)
        return [{"id": h.passage.id, "text": h.passage.text, "tags": h.passage.tags or [],
                 "created_at": h.passage.created_at.isoformat() if h.passage.created_at else None,
                 "score": round(h.score, 4)} for h in hits]

    async def history(self, agent_id: str, limit: int) -> list[dict[str, Any]]:
        async with host_errors():
            messages = await self.svc.messages.list(agent_id, limit=limit)
        return [e for e in (history_entry(m) for m in messages) if e is not None]

    async def search_history(self, agent_id: str, query: str, limit: int) -> list[dict[str, Any]]:
        async with host_errors():
            await self.svc.agents.exists(agent_id)
            found = await self.svc.messages.search_views(agent_id, query, page_size=limit)
        return [e for e in (history_entry(m) for m in found) if e is not None]

    async def list_tools(self) -> list[dict[str, Any]]:
        async with host_errors():
            tools = await self.svc.tools.list(limit=None)
        return [{"id": t.id, "name": t.name, "tool_type": t.tool_type, "description": (t.description or "")[:300]}
                for t in tools]

    async def run_tool(self, source_code: str, args: dict[str, Any], env: dict[str, str],
                       pip: list[str]) -> ToolRunOutcome:
        async with host_errors():
            done = await self.svc.catalogue.run_source(source_code, args, env, pip)
        return ToolRunOutcome(done.status, done.text, done.stdout, done.stderr)


__all__ = ["LocalBackend", "host_errors"]
