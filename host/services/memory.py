"""Core memory and the in-context message list: blocks by label, the system message, appending messages."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any, cast

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session

from host.domain.messages import StoredMessage
from host.domain.prompt import BlockLike, MemoryStats, compile_system_prompt
from host.errors import NotFoundError
from host.ids import new_id, utcnow
from host.memory import (  # noqa: F401  (re-exported: callers import them from here)
    ARCHIVAL_COUNT,
    RECALL_COUNT,
    blocks_of,
    compiled_system,
    count_memories,
    mark_stale,
    memory_stats,
    recompile_sharing,
    recompile_system,
    refresh_stale,
    stale_agents,
)
from host.persistence.convert import block_out, message_row
from host.persistence.db import Database
from host.persistence.models import AgentBlockRow, AgentRow, BlockRow
from host.schemas.blocks import Block, BlockUpdate, Memory
from host.services.agent_view import MEMORY_PROMPT_TEMPLATE
from host.services.blocks import apply_block_update
from host.tools.rule_guidance import prompt_guidance
from host.tools.rule_models import parse_tool_rules


def append_messages_sync(s: Session, agent: AgentRow, messages: list[StoredMessage], *,
                         in_context: bool = True) -> None:
    for msg in messages:
        if msg.created_at is None:
            msg.created_at = utcnow()
        s.add(message_row(msg))
    s.flush()
    if in_context:
        agent.message_ids = list(agent.message_ids or []) + [m.id for m in messages]


async def append_messages(s: AsyncSession, agent: AgentRow, messages: list[StoredMessage],
                          *, in_context: bool = True) -> None:
    await s.run_sync(append_messages_sync, agent, messages, in_context=in_context)


async def initial_messages(s: AsyncSession, agent: AgentRow, sequence: list[dict[str, Any]] | None) -> list[StoredMessage]:
    return await s.run_sync(initial_messages_sync, agent, sequence)


def initial_messages_sync(s: Session, agent: AgentRow, sequence: list[dict[str, Any]] | None,
                          blocks: Sequence[BlockLike] | None = None) -> list[StoredMessage]:
    """The first messages of ``agent``: its system prompt (compiled from ``blocks``, its blocks in order, read
    when not given) and the login message or ``sequence``."""
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
    if blocks is None:
        blocks = cast("list[BlockLike]", blocks_of(s, [agent.id])[agent.id])  # (pyright#11021: Mapped vs protocol)
    try:
        guidance = prompt_guidance(parse_tool_rules(agent.tool_rules or []))
    except Exception:
        guidance = ""
    system.text = compile_system_prompt(agent.system, blocks, MemoryStats(0, 0, agent.updated_at), guidance or None)
    return out


async def fresh_prompts(db: Database, agent_ids: Sequence[str] | None = None) -> None:
    """Before a read that shows stored system messages (of ``agent_ids``; None: of any agent): the prompts
    marked stale by an attach or detach are compiled now (host.memory.system). Nothing stale: one read."""
    stale = await db.read(lambda s: stale_agents(s, agent_ids))
    if stale:
        await db.write(lambda s: refresh_stale(s, stale), bulk=len(stale) > 1)  # a block shared by many agents


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
