"""Core memory and the in-context message list: blocks by label, the system message, appending messages."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import bindparam, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session

from host.agent.messages import StoredMessage
from host.agent.prompt import MemoryStats, compile_system_prompt
from host.errors import NotFoundError
from host.ids import new_id, utcnow
from host.persistence.convert import block_out, message_row
from host.persistence.db import Database
from host.persistence.models import AgentBlockRow, AgentRow, BlockRow, MessageRow, PassageRow
from host.schemas.blocks import Block, BlockUpdate, Memory
from host.services.agent_view import MEMORY_PROMPT_TEMPLATE, blocks_of
from host.services.blocks import apply_block_update
from host.tools.rule_guidance import prompt_guidance
from host.tools.rule_models import parse_tool_rules


# An agent's memory counts, for the agent named by the bind parameter ``agent_id`` (built once).
RECALL_COUNT = (select(func.count()).select_from(MessageRow).where(MessageRow.agent_id == bindparam("agent_id"))
                .scalar_subquery())
ARCHIVAL_COUNT = (select(func.count()).select_from(PassageRow).where(PassageRow.agent_id == bindparam("agent_id"))
                  .scalar_subquery())
_COUNTS = select(RECALL_COUNT, ARCHIVAL_COUNT)


def count_memories(s: Session, agent_id: str) -> tuple[int, int]:
    """(messages, archival passages) of an agent, in one round trip."""
    row = s.execute(_COUNTS, {"agent_id": agent_id}).one()
    return int(row[0]), int(row[1])


def memory_stats(s: Session, agent: AgentRow) -> MemoryStats:
    recall, archival = count_memories(s, agent.id)
    in_context = len(agent.message_ids or [])
    return MemoryStats(recall_count=max(0, int(recall) - in_context), archival_count=int(archival),
                       last_modified=agent.updated_at)


def compiled_system(s: Session, agent: AgentRow) -> str:
    blocks = blocks_of(s, [agent.id])[agent.id]
    try:
        guidance = prompt_guidance(parse_tool_rules(agent.tool_rules or []))
    except Exception:
        guidance = ""
    return compile_system_prompt(agent.system, blocks, memory_stats(s, agent), guidance or None)


def recompile_system(s: Session, agent: AgentRow) -> None:
    """Rewrite the system message (first in context) from the current memory, if it changed.

    Synchronous, like the other helpers here, so that both the loop's units of work and the services
    can use it (async callers: ``await session.run_sync(recompile_system, agent)``)."""
    if not agent.message_ids:
        return
    row = s.execute(select(MessageRow).where(MessageRow.id == agent.message_ids[0])).scalar_one_or_none()
    if row is None or row.role != "system":
        return
    text = compiled_system(s, agent)
    if _strip_time(row.text or "") != _strip_time(text):
        row.text = text
        row.content = [{"type": "text", "text": text}]


def _strip_time(prompt: str) -> str:
    return "\n".join(line for line in prompt.splitlines() if "The current time is" not in line
                     and "previous messages between you" not in line)


async def append_messages(s: AsyncSession, agent: AgentRow, messages: list[StoredMessage],
                          *, in_context: bool = True) -> None:
    for msg in messages:
        if msg.created_at is None:
            msg.created_at = utcnow()
        s.add(message_row(msg))
    await s.flush()
    if in_context:
        agent.message_ids = list(agent.message_ids or []) + [m.id for m in messages]


async def initial_messages(s: AsyncSession, agent: AgentRow, sequence: list[dict[str, Any]] | None) -> list[StoredMessage]:
    system = StoredMessage(id=new_id("message"), agent_id=agent.id, role="system", text="")
    out = [system]
    if sequence:
        for item in sequence:
            content = item.get("content")
            text = content if isinstance(content, str) else " ".join(
                p.get("text", "") for p in content or [] if isinstance(p, dict))
            out.append(StoredMessage(id=new_id("message"), agent_id=agent.id, role=item.get("role", "user"),
                                     text=text, name=item.get("name"), otid=item.get("otid"),
                                     sender_id=item.get("sender_id")))
    else:
        login = {"type": "login", "last_login": "Never (first login)",
                 "time": utcnow().strftime("%Y-%m-%d %I:%M:%S %p UTC+0000")}
        out.append(StoredMessage(id=new_id("message"), agent_id=agent.id, role="user",
                                 text=json.dumps(login, indent=2)))
    now = utcnow()
    for msg in out:
        msg.created_at = now
    blocks = (await s.run_sync(blocks_of, [agent.id]))[agent.id]
    try:
        guidance = prompt_guidance(parse_tool_rules(agent.tool_rules or []))
    except Exception:
        guidance = ""
    system.text = compile_system_prompt(agent.system, blocks, MemoryStats(0, 0, agent.updated_at), guidance or None)
    return out


class MemoryService:
    """An agent's core memory: its blocks by label."""

    def __init__(self, db: Database) -> None:
        self.db = db

    async def _agent(self, s: AsyncSession, agent_id: str) -> AgentRow:
        agent = await s.get(AgentRow, agent_id)
        if agent is None:
            raise NotFoundError.for_id("Agent", agent_id)
        return agent

    async def core_memory(self, agent_id: str) -> Memory:
        async with self.db.session() as s:
            await self._agent(s, agent_id)
            blocks = (await s.run_sync(blocks_of, [agent_id]))[agent_id]
            return Memory(blocks=[block_out(b) for b in blocks], prompt_template=MEMORY_PROMPT_TEMPLATE)

    async def blocks(self, agent_id: str) -> list[Block]:
        return (await self.core_memory(agent_id)).blocks

    async def _by_label(self, s: AsyncSession, agent_id: str, label: str) -> BlockRow:
        row = (await s.execute(select(BlockRow).join(AgentBlockRow, AgentBlockRow.block_id == BlockRow.id)
                               .where(AgentBlockRow.agent_id == agent_id, BlockRow.label == label))).scalars().first()
        if row is None:
            raise NotFoundError(f"Block with label {label} not found for agent {agent_id}")
        return row

    async def block(self, agent_id: str, label: str) -> Block:
        async with self.db.session() as s:
            await self._agent(s, agent_id)
            return block_out(await self._by_label(s, agent_id, label))

    async def modify_block(self, agent_id: str, label: str, update: BlockUpdate) -> Block:
        async with self.db.transaction() as s:
            agent = await self._agent(s, agent_id)
            row = await self._by_label(s, agent_id, label)
            apply_block_update(row, update)
            await s.flush()
            await s.run_sync(recompile_sharing, row.id, agent)
        return block_out(row)


def recompile_sharing(s: Session, block_id: str, first: AgentRow | None = None) -> None:
    """A block shared by several agents changed: every one of them sees it in its system prompt."""
    ids = [a for (a,) in s.execute(select(AgentBlockRow.agent_id).where(AgentBlockRow.block_id == block_id)).all()]
    for agent_id in ids:
        agent = first if first is not None and first.id == agent_id else s.get(AgentRow, agent_id)
        if agent is not None:
            recompile_system(s, agent)

