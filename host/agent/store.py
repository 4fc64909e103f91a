"""The loop's reads: load an agent at the start of a turn, refresh it before a later step.

The hot path (one read unit per turn) uses Core statements, not the ORM. The in-context messages of
recently active agents stay in a `HistoryCache` between turns, so a turn reads only the agent, its
blocks and tools, not its whole history. Writing a step is ``host.agent.step_write``.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, bindparam, exists, or_, select
from sqlalchemy.orm import Session

from builtin_tools import MemoryBlock
from host.agent.turn import AgentSnapshot
from host.domain.messages import StoredMessage
from host.domain.prompt import MemoryStats, compile_system_prompt
from host.errors import NotFoundError
from host.llm.providers import LLMConfig
from host.memory import ARCHIVAL_COUNT, RECALL_COUNT, count_memories
from host.persistence.convert import message_out
from host.persistence.db import Database
from host.persistence.models import (
    AgentBlockRow,
    AgentRow,
    AgentToolRow,
    BlockRow,
    GroupRow,
    JobRow,
    MessageRow,
    ToolRow,
)
from host.persistence.tenancy import scope_org
from host.tools.dispatcher import ToolInfo
from host.tools.rule_guidance import prompt_guidance
from host.tools.rule_models import parse_tool_rules


class HistoryCache:
    """The in-context messages of recently active agents, between turns (least recently used first out).

    An entry is valid while the agent row's ``updated_at`` is the one the entry was stored with: every
    write to the agent row moves it (the column updates itself), and whatever edits a stored message
    outside a turn touches the agent row too (``MessageService.modify``). A turn that finds the row
    changed under it (a concurrent edit) drops the entry instead of storing it.
    """

    def __init__(self, max_agents: int = 512) -> None:
        self.max_agents = max_agents
        self._entries: OrderedDict[str, tuple[datetime, dict[str, StoredMessage]]] = OrderedDict()

    def get(self, agent_id: str, version: datetime, ids: Sequence[str]) -> list[StoredMessage] | None:
        entry = self._entries.get(agent_id)
        if entry is None or entry[0] != version:
            return None
        messages = entry[1]
        if any(i not in messages for i in ids):
            return None
        self._entries.move_to_end(agent_id)
        return [messages[i] for i in ids]

    def put(self, agent_id: str, version: datetime, messages: Sequence[StoredMessage]) -> None:
        self._entries[agent_id] = (version, {m.id: m for m in messages})
        self._entries.move_to_end(agent_id)
        while len(self._entries) > self.max_agents:
            self._entries.popitem(last=False)

    def drop(self, agent_id: str) -> None:
        self._entries.pop(agent_id, None)


@dataclass
class Loaded:
    """An agent as a turn starts: the snapshot, its in-context history (system message first), the
    memory counts for the system prompt, and the turn's run: whether it was cancelled before it began, and whose
    it is."""

    snap: AgentSnapshot
    history: list[StoredMessage]
    recall: int = 0
    archival: int = 0
    run_status: str | None = None  # the turn's run as the turn starts (None: no run, or no such run)
    run_owner: str | None = None

    @property
    def cancelled(self) -> bool:
        """The run was cancelled before the turn began."""
        return self.run_status == "cancelled"


def _snapshot(agent: Any, blocks: Sequence[Any], tools: Sequence[Any], message_ids: list[str]) -> AgentSnapshot:
    return AgentSnapshot(
        id=agent.id,
        name=agent.name,
        system=agent.system,
        agent_type=agent.agent_type,
        llm=LLMConfig.model_validate(agent.llm_config),
        embedding_config=dict(agent.embedding_config or {}),
        rules=parse_tool_rules(agent.tool_rules or []),
        tools=[ToolInfo(id=t.id, name=t.name, tool_type=t.tool_type, json_schema=t.json_schema,
                        source_code=t.source_code, pip_requirements=t.pip_requirements,
                        return_char_limit=t.return_char_limit, metadata=dict(t.metadata_ or {}))
               for t in tools],
        blocks=[MemoryBlock(label=b.label, value=b.value, limit=b.limit, description=b.description or "",
                            read_only=b.read_only, block_id=b.id) for b in blocks],
        message_ids=message_ids,
        env={k: str((v or {}).get("value") or "") for k, v in (agent.tool_exec_env or {}).items()},
        autoclear=agent.message_buffer_autoclear,
        version=agent.updated_at,
        memory_modified=max((b.updated_at for b in blocks), default=None),
        sleeptime_main=bool(agent.sleeptime_main),
    )


# A turn's reads, built once (Core column selects: plain rows, no ORM bookkeeping). The agent row comes with
# the memory counts and the run's status: one round trip fewer.
# The group types whose manager's turns are counted (host.services.groups.sleeptime): the load says whether the
# agent manages one, so the turns of every other agent (nearly all) cost nothing more once they end.
SLEEPTIME_TYPES = ("sleeptime", "voice_sleeptime")
_SLEEPTIME_MAIN = exists().where(GroupRow.manager_agent_id == AgentRow.id, GroupRow.manager_type.in_(SLEEPTIME_TYPES))
_RUN_STATUS = select(JobRow.status).where(JobRow.id == bindparam("run_id")).scalar_subquery()
_RUN_OWNER = select(JobRow.owner).where(JobRow.id == bindparam("run_id")).scalar_subquery()
_AGENT_Q = select(AgentRow.id, AgentRow.name, AgentRow.system, AgentRow.llm_config, AgentRow.embedding_config,
                  AgentRow.tool_rules, AgentRow.message_ids, AgentRow.tool_exec_env,
                  AgentRow.message_buffer_autoclear, AgentRow.updated_at, AgentRow.agent_type,
                  RECALL_COUNT.label("recall"), ARCHIVAL_COUNT.label("archival"), _RUN_STATUS.label("run_status"),
                  _RUN_OWNER.label("run_owner"), _SLEEPTIME_MAIN.label("sleeptime_main")).where(
    AgentRow.id == bindparam("agent_id"),  # an agent of the caller's organization (org None: the system, any)
    or_(bindparam("org", type_=AgentRow.organization_id.type).is_(None), AgentRow.organization_id == bindparam("org")))
_BLOCKS_Q = (select(BlockRow.id, BlockRow.label, BlockRow.value, BlockRow.limit, BlockRow.description,
                    BlockRow.read_only, BlockRow.updated_at)
             .join(AgentBlockRow, AgentBlockRow.block_id == BlockRow.id)
             .where(AgentBlockRow.agent_id == bindparam("agent_id"))
             .order_by(AgentBlockRow.position, BlockRow.created_at))
_TOOLS_Q = (select(ToolRow.id, ToolRow.name, ToolRow.tool_type, ToolRow.json_schema, ToolRow.source_code,
                   ToolRow.pip_requirements, ToolRow.return_char_limit, ToolRow.metadata_.label("metadata_"))
            .join(AgentToolRow, AgentToolRow.tool_id == ToolRow.id)
            .where(AgentToolRow.agent_id == bindparam("agent_id")).order_by(AgentToolRow.position))
# A history the cache cannot give (a first turn, or a turn after another process wrote to the agent): the table's
# rows as plain rows for ``message_out`` (ORM objects cost a third more for the same messages, measured).
_MESSAGES_Q = select(MessageRow.__table__).where(MessageRow.id.in_(bindparam("ids", expanding=True)))
_COUNTS_Q = select(RECALL_COUNT, ARCHIVAL_COUNT, _RUN_STATUS)
_BLOCK_VALUES_Q = select(BlockRow.id, BlockRow.value, BlockRow.limit, BlockRow.read_only, BlockRow.updated_at).where(
    BlockRow.id.in_(bindparam("ids", expanding=True)))


def _counts(conn: Connection, agent_id: str, run_id: str | None) -> tuple[int, int, bool]:
    """(messages, archival passages, run cancelled) in one round trip."""
    row = conn.execute(_COUNTS_Q, {"agent_id": agent_id, "run_id": run_id or ""}).one()
    return int(row[0]), int(row[1]), row[2] == "cancelled"


def _load(s: Session, agent_id: str, cache: HistoryCache | None, run_id: str | None) -> Loaded:
    conn = s.connection()
    key = {"agent_id": agent_id}
    agent = conn.execute(_AGENT_Q, {**key, "run_id": run_id or "", "org": scope_org()}).one_or_none()
    if agent is None:
        raise NotFoundError.for_id("Agent", agent_id)
    blocks = conn.execute(_BLOCKS_Q, key).all()
    tools = conn.execute(_TOOLS_Q, key).all()
    ids = list(agent.message_ids or [])
    history = cache.get(agent_id, agent.updated_at, ids) if cache is not None else None
    if history is None:
        rows: dict[str, Any] = {r.id: r for r in conn.execute(_MESSAGES_Q, {"ids": ids})} if ids else {}
        history = [message_out(rows[i]) for i in ids if i in rows]
    snap = _snapshot(agent, blocks, tools, [m.id for m in history])
    return Loaded(snap=snap, history=history, recall=int(agent.recall), archival=int(agent.archival),
                  run_status=agent.run_status, run_owner=agent.run_owner)


async def load_turn(db: Database, agent_id: str, *, cache: HistoryCache | None = None,
                    run_id: str | None = None) -> Loaded:
    """Everything a turn reads up front, as one unit."""
    return await db.read(lambda s: _load(s, agent_id, cache, run_id))


async def load_snapshot(db: Database, agent_id: str) -> tuple[AgentSnapshot, list[StoredMessage]]:
    loaded = await load_turn(db, agent_id)
    return loaded.snap, loaded.history


async def memory_counts(db: Database, agent_id: str) -> tuple[int, int]:
    return await db.read(lambda s: count_memories(s, agent_id))


@dataclass
class Refresh:
    recall: int
    archival: int
    cancelled: bool
    memory_modified: datetime | None = None  # the newest write to the blocks re-read


RefreshRead = tuple[dict[str, Any], tuple[int, int, bool]]  # (block rows by id, (recall, archival, cancelled))


def read_refresh(conn: Connection, agent_id: str, block_ids: Sequence[str], run_id: str | None) -> RefreshRead:
    """What ``refresh`` reads, on ``conn``: also run inside a step's write unit (``StepWrite.read_after``)."""
    rows = {r.id: r for r in conn.execute(_BLOCK_VALUES_Q, {"ids": list(block_ids)})} if block_ids else {}
    return rows, _counts(conn, agent_id, run_id)


def refresh_reader(agent_id: str, block_ids: Sequence[str], run_id: str | None) -> Callable[[Connection], RefreshRead]:
    """``read_refresh`` of these, for a unit that runs it on its own connection (``StepWrite.read_after``)."""
    return lambda conn: read_refresh(conn, agent_id, block_ids, run_id)


def apply_refresh(blocks: list[MemoryBlock], read: RefreshRead) -> Refresh:
    rows, (recall, archival, cancelled) = read
    for block in blocks:
        row = rows.get(block.block_id or "")
        if row is not None:
            block.value, block.limit, block.read_only = row.value, row.limit, row.read_only
    return Refresh(recall, archival, cancelled, max((r.updated_at for r in rows.values()), default=None))


async def refresh(db: Database, agent_id: str, blocks: list[MemoryBlock], run_id: str | None) -> Refresh:
    """Before a later step of a turn: bring blocks up to date (another agent sharing a block may have
    edited it while this turn waited on a multi-agent exchange), recount memory, check for cancellation."""
    ids = [b.block_id for b in blocks if b.block_id]
    return apply_refresh(blocks, await db.read(lambda s: read_refresh(s.connection(), agent_id, ids, run_id)))


def system_text(snap: AgentSnapshot, recall: int, archival: int) -> str:
    guidance = prompt_guidance(snap.rules) if snap.rules else ""
    stats = MemoryStats(recall_count=max(0, recall - len(snap.message_ids)), archival_count=archival,
                        last_modified=snap.memory_modified)
    return compile_system_prompt(snap.system, snap.blocks, stats, guidance or None)
