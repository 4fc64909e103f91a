"""The system prompt as stored: recompiled from an agent's blocks when memory changes; memory counts.

Attaching or detaching a block does not recompile it (the prompt holds every block: that work grew with
the agent): ``mark_stale`` marks the agent in the database, and every read that shows the stored system
message calls ``refresh_stale`` first, which compiles it once for any number of attaches. A turn never
reads the stored text (each step compiles the prompt it sends), so a turn sees the new block either way.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Sequence
from typing import Any, cast

from sqlalchemy import bindparam, func, select, update
from sqlalchemy.orm import Session

from host.domain.prompt import BlockLike, MemoryStats, compile_system_prompt
from host.persistence.models import AgentBlockRow, AgentRow, BlockRow, MessageRow, PassageRow
from host.tools.rule_guidance import prompt_guidance
from host.tools.rule_models import parse_tool_rules


def blocks_of(session: Session, agent_ids: Sequence[str]) -> dict[str, list[BlockRow]]:
    """The blocks of each agent, in order (synchronous: async callers use ``session.run_sync``)."""
    out: dict[str, list[BlockRow]] = defaultdict(list)
    if not agent_ids:
        return out
    rows = session.execute(
        select(AgentBlockRow.agent_id, BlockRow)
        .join(BlockRow, BlockRow.id == AgentBlockRow.block_id)
        .where(AgentBlockRow.agent_id.in_(agent_ids))
        .order_by(AgentBlockRow.position, BlockRow.created_at)
    )
    for agent_id, block in rows.all():
        out[agent_id].append(block)
    return out


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


def memory_stats(s: Session, agent: AgentRow, blocks: Sequence[Any]) -> MemoryStats:
    """Counts for the prompt; "last modified" is the newest write to the agent's blocks (as in the loop)."""
    recall, archival = count_memories(s, agent.id)
    in_context = len(agent.message_ids or [])
    return MemoryStats(recall_count=max(0, int(recall) - in_context), archival_count=int(archival),
                       last_modified=max((b.updated_at for b in blocks), default=None))


# What the prompt needs of an agent's blocks, as plain rows (no ORM instances: an attach to an agent with
# thousands of blocks spent most of its time building them).
_PROMPT_BLOCKS = (select(BlockRow.label, BlockRow.value, BlockRow.limit, BlockRow.description, BlockRow.read_only,
                         BlockRow.updated_at)
                  .join(AgentBlockRow, BlockRow.id == AgentBlockRow.block_id)
                  .where(AgentBlockRow.agent_id == bindparam("agent_id"))
                  .order_by(AgentBlockRow.position, BlockRow.created_at))


def compiled_system(s: Session, agent: AgentRow) -> str:
    blocks = s.execute(_PROMPT_BLOCKS, {"agent_id": agent.id}).all()
    try:
        guidance = prompt_guidance(parse_tool_rules(agent.tool_rules or []))
    except Exception:
        guidance = ""
    rows = cast("list[BlockLike]", blocks)  # pyright cannot match Mapped to a protocol (pyright#11021)
    return compile_system_prompt(agent.system, rows, memory_stats(s, agent, blocks), guidance or None)


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


_CLOCK_LINES = re.compile(r"^.*(?:The current time is|previous messages between you).*$\n?", re.MULTILINE)


def _strip_time(prompt: str) -> str:
    """The prompt without its clock lines (one regex pass: a prompt with thousands of blocks is long)."""
    return _CLOCK_LINES.sub("", prompt)


def recompile_sharing(s: Session, block_id: str, first: AgentRow | None = None) -> None:
    """A block shared by several agents changed: every one of them sees it in its system prompt."""
    ids = [a for (a,) in s.execute(select(AgentBlockRow.agent_id).where(AgentBlockRow.block_id == block_id)).all()]
    for agent_id in ids:
        agent = first if first is not None and first.id == agent_id else s.get(AgentRow, agent_id)
        if agent is not None:
            recompile_system(s, agent)


def mark_stale(s: Session, agent_ids: Sequence[str]) -> None:
    """The stored system prompts of ``agent_ids`` no longer show their memory: the next read that shows one
    compiles it (``refresh_stale``). One statement, whatever the size of the agents; ``updated_at`` is kept
    (the mark is bookkeeping, not a change of the agent)."""
    if agent_ids:
        s.execute(update(AgentRow).where(AgentRow.id.in_(list(agent_ids)))
                  .values(prompt_stale=True, updated_at=AgentRow.updated_at)
                  .execution_options(synchronize_session=False))


_STALE = select(AgentRow.id).where(AgentRow.prompt_stale.is_(True))


def stale_agents(s: Session, agent_ids: Sequence[str] | None = None) -> list[str]:
    """Which of ``agent_ids`` (None: every agent the session sees) have a stale stored system prompt."""
    stmt = _STALE if agent_ids is None else _STALE.where(AgentRow.id.in_(list(agent_ids)))
    return list(s.execute(stmt).scalars())


def refresh_stale(s: Session, agent_ids: Sequence[str]) -> int:
    """Compile the stored system prompt of each of ``agent_ids`` still marked stale; how many were compiled.

    Each mark is cleared (one conditional UPDATE) *before* the blocks are read: a concurrent attach that
    marks the agent again either waits for this transaction (the row is locked) and marks it after, or has
    committed already and its block is read here. Either way no attach is left out of the stored prompt."""
    done = 0
    for agent_id in agent_ids:
        claimed = s.execute(update(AgentRow).where(AgentRow.id == agent_id, AgentRow.prompt_stale.is_(True))
                            .values(prompt_stale=False, updated_at=AgentRow.updated_at)
                            .execution_options(synchronize_session=False))
        if not claimed.rowcount:  # pyright: ignore[reportAttributeAccessIssue]
            continue
        agent = s.get(AgentRow, agent_id, populate_existing=True)
        if agent is not None:
            recompile_system(s, agent)
            done += 1
    return done
