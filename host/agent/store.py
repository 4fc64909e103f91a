"""The loop's persistence: load an agent snapshot at the start of a turn, write one step in one transaction."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from builtin_tools import MemoryBlock
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from host.agent.messages import StoredMessage
from host.agent.prompt import MemoryStats, compile_system_prompt
from host.agent.turn import AgentSnapshot
from host.errors import NotFoundError
from host.ids import utcnow
from host.persistence.convert import message_out, message_row
from host.persistence.db import Database
from host.persistence.models import (
    AgentRow,
    BlockRow,
    JobRow,
    MessageRow,
    StepRow,
)
from host.providers import LLMConfig
from host.services.agent_view import blocks_of
from host.services.memory import count_memories
from host.tools.dispatcher import ToolInfo
from host.tools.rule_guidance import prompt_guidance
from host.tools.rule_models import parse_tool_rules
from host.persistence.models import AgentToolRow, ToolRow


async def load_snapshot(db: Database, agent_id: str) -> tuple[AgentSnapshot, list[StoredMessage]]:
    async with db.session() as s:
        agent = await s.get(AgentRow, agent_id)
        if agent is None:
            raise NotFoundError.for_id("Agent", agent_id)
        blocks = (await blocks_of(s, [agent_id]))[agent_id]
        tools = (await s.execute(select(ToolRow).join(AgentToolRow, AgentToolRow.tool_id == ToolRow.id)
                                 .where(AgentToolRow.agent_id == agent_id).order_by(AgentToolRow.position))).scalars()
        ids = list(agent.message_ids or [])
        rows = {r.id: r for r in (await s.execute(select(MessageRow).where(MessageRow.id.in_(ids)))).scalars()}
        history = [message_out(rows[i]) for i in ids if i in rows]
        snap = AgentSnapshot(
            id=agent.id,
            name=agent.name,
            system=agent.system,
            llm=LLMConfig.model_validate(agent.llm_config),
            embedding_config=dict(agent.embedding_config or {}),
            rules=parse_tool_rules(agent.tool_rules or []),
            tools=[ToolInfo(id=t.id, name=t.name, tool_type=t.tool_type, json_schema=t.json_schema,
                            source_code=t.source_code, pip_requirements=t.pip_requirements,
                            return_char_limit=t.return_char_limit, metadata=dict(t.metadata_ or {}))
                   for t in tools],
            blocks=[MemoryBlock(label=b.label, value=b.value, limit=b.limit, description=b.description or "",
                                read_only=b.read_only, block_id=b.id) for b in blocks],
            message_ids=[m.id for m in history],
            env={k: str((v or {}).get("value") or "") for k, v in (agent.tool_exec_env or {}).items()},
            autoclear=agent.message_buffer_autoclear,
        )
        return snap, history


async def memory_counts(db: Database, agent_id: str) -> tuple[int, int]:
    async with db.session() as s:
        return await count_memories(s, agent_id)


async def refresh_blocks(db: Database, agent_id: str, blocks: list[MemoryBlock]) -> None:
    """Bring blocks up to date with the database before a step: another agent sharing a block may have
    edited it since this turn began (multi-agent exchanges run while this turn waits)."""
    ids = [b.block_id for b in blocks if b.block_id]
    if not ids:
        return
    async with db.session() as s:
        rows = {r.id: r for r in (await s.execute(select(BlockRow).where(BlockRow.id.in_(ids)))).scalars()}
    for block in blocks:
        row = rows.get(block.block_id or "")
        if row is not None:
            block.value, block.limit, block.read_only = row.value, row.limit, row.read_only


def system_text(snap: AgentSnapshot, recall: int, archival: int) -> str:
    guidance = prompt_guidance(snap.rules) if snap.rules else ""
    stats = MemoryStats(recall_count=max(0, recall - len(snap.message_ids)), archival_count=archival,
                        last_modified=utcnow())
    return compile_system_prompt(snap.system, snap.blocks, stats, guidance or None)


@dataclass
class StepWrite:
    """Everything one step changes, written in one transaction."""

    agent_id: str
    step: StepRow | None
    messages: list[StoredMessage]
    in_context_ids: list[str]
    changed_blocks: list[MemoryBlock]
    system_message_id: str | None
    system_text: str | None
    run_id: str | None = None
    run_update: dict[str, Any] | None = None


async def write_step(db: Database, w: StepWrite) -> None:
    async with db.transaction() as s:
        await _write(s, w)


async def _write(s: AsyncSession, w: StepWrite) -> None:
    agent = await s.get(AgentRow, w.agent_id)
    if agent is None:  # deleted mid-turn: nothing to keep
        raise NotFoundError.for_id("Agent", w.agent_id)
    now = utcnow()
    for msg in w.messages:
        msg.created_at = msg.created_at or now
        s.add(message_row(msg))
    if w.step is not None:
        s.add(w.step)
    for block in w.changed_blocks:
        if block.block_id:
            row = await s.get(BlockRow, block.block_id)
            if row is not None:
                row.value = block.value
                row.updated_at = now
    if w.system_message_id and w.system_text is not None:
        row = (await s.execute(select(MessageRow).where(MessageRow.id == w.system_message_id))).scalar_one_or_none()
        if row is not None and row.text != w.system_text:
            row.text = w.system_text
            row.content = [{"type": "text", "text": w.system_text}]
    agent.message_ids = list(w.in_context_ids)
    agent.last_run_completion = now
    if w.run_id and w.run_update:
        run = await s.get(JobRow, w.run_id)
        if run is not None:
            for key, value in w.run_update.items():
                setattr(run, key, value)
    await s.flush()
    if w.changed_blocks:
        # Other agents sharing these blocks see the change in their system prompt too.
        from host.services.memory import recompile_sharing

        for block in w.changed_blocks:
            if block.block_id:
                await recompile_sharing(s, block.block_id, first=agent)
