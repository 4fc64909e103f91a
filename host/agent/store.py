"""The loop's persistence: load an agent at the start of a turn, write one step in one transaction.

The hot path (one read session per turn, one write transaction per step) uses Core statements, not the
ORM unit of work. The in-context messages of recently active agents stay in a `HistoryCache` between
turns, so a turn reads only the agent, its blocks and tools, not its whole history.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Sequence

from builtin_tools import MemoryBlock
from sqlalchemy import Boolean, Connection, Select, and_, bindparam, case, column, func, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from host.agent.messages import StoredMessage
from host.agent.prompt import MemoryStats, compile_system_prompt
from host.agent.turn import AgentSnapshot
from host.errors import NotFoundError
from host.ids import utcnow
from host.persistence.convert import message_out, message_values
from host.persistence.db import Database
from host.persistence.models import (
    AgentBlockRow,
    AgentRow,
    AgentToolRow,
    BlockRow,
    JobRow,
    MessageRow,
    StepRow,
    ToolRow,
)
from host.persistence.types import JSONType
from host.providers import LLMConfig
from host.services.memory import ARCHIVAL_COUNT, RECALL_COUNT, count_memories
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
    memory counts for the system prompt, and whether the turn's run was cancelled before it began."""

    snap: AgentSnapshot
    history: list[StoredMessage]
    recall: int = 0
    archival: int = 0
    cancelled: bool = False


def _snapshot(agent: Any, blocks: Sequence[Any], tools: Sequence[Any], message_ids: list[str]) -> AgentSnapshot:
    return AgentSnapshot(
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
        message_ids=message_ids,
        env={k: str((v or {}).get("value") or "") for k, v in (agent.tool_exec_env or {}).items()},
        autoclear=agent.message_buffer_autoclear,
        version=agent.updated_at,
    )


# A turn's reads, built once (Core column selects: plain rows, no ORM bookkeeping). The agent row comes with
# the memory counts and the run's status: one round trip fewer.
_RUN_STATUS = select(JobRow.status).where(JobRow.id == bindparam("run_id")).scalar_subquery()
_AGENT_Q = select(AgentRow.id, AgentRow.name, AgentRow.system, AgentRow.llm_config, AgentRow.embedding_config,
                  AgentRow.tool_rules, AgentRow.message_ids, AgentRow.tool_exec_env,
                  AgentRow.message_buffer_autoclear, AgentRow.updated_at,
                  RECALL_COUNT.label("recall"), ARCHIVAL_COUNT.label("archival"), _RUN_STATUS.label("run_status")
                  ).where(AgentRow.id == bindparam("agent_id"))
_BLOCKS_Q = (select(BlockRow.id, BlockRow.label, BlockRow.value, BlockRow.limit, BlockRow.description,
                    BlockRow.read_only)
             .join(AgentBlockRow, AgentBlockRow.block_id == BlockRow.id)
             .where(AgentBlockRow.agent_id == bindparam("agent_id"))
             .order_by(AgentBlockRow.position, BlockRow.created_at))
_TOOLS_Q = (select(ToolRow.id, ToolRow.name, ToolRow.tool_type, ToolRow.json_schema, ToolRow.source_code,
                   ToolRow.pip_requirements, ToolRow.return_char_limit, ToolRow.metadata_.label("metadata_"))
            .join(AgentToolRow, AgentToolRow.tool_id == ToolRow.id)
            .where(AgentToolRow.agent_id == bindparam("agent_id")).order_by(AgentToolRow.position))
_COUNTS_Q = select(RECALL_COUNT, ARCHIVAL_COUNT, _RUN_STATUS)
_BLOCK_VALUES_Q = select(BlockRow.id, BlockRow.value, BlockRow.limit, BlockRow.read_only).where(
    BlockRow.id.in_(bindparam("ids", expanding=True)))


def _counts(conn: Connection, agent_id: str, run_id: str | None) -> tuple[int, int, bool]:
    """(messages, archival passages, run cancelled) in one round trip."""
    row = conn.execute(_COUNTS_Q, {"agent_id": agent_id, "run_id": run_id or ""}).one()
    return int(row[0]), int(row[1]), row[2] == "cancelled"


def _load(s: Session, agent_id: str, cache: HistoryCache | None, run_id: str | None) -> Loaded:
    conn = s.connection()
    key = {"agent_id": agent_id}
    agent = conn.execute(_AGENT_Q, {**key, "run_id": run_id or ""}).one_or_none()
    if agent is None:
        raise NotFoundError.for_id("Agent", agent_id)
    blocks = conn.execute(_BLOCKS_Q, key).all()
    tools = conn.execute(_TOOLS_Q, key).all()
    ids = list(agent.message_ids or [])
    history = cache.get(agent_id, agent.updated_at, ids) if cache is not None else None
    if history is None:
        rows = {r.id: r for r in s.execute(select(MessageRow).where(MessageRow.id.in_(ids))).scalars()}
        history = [message_out(rows[i]) for i in ids if i in rows]
    snap = _snapshot(agent, blocks, tools, [m.id for m in history])
    return Loaded(snap=snap, history=history, recall=int(agent.recall), archival=int(agent.archival),
                  cancelled=agent.run_status == "cancelled")


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


async def refresh(db: Database, agent_id: str, blocks: list[MemoryBlock], run_id: str | None) -> Refresh:
    """Before a later step of a turn: bring blocks up to date (another agent sharing a block may have
    edited it while this turn waited on a multi-agent exchange), recount memory, check for cancellation."""
    ids = [b.block_id for b in blocks if b.block_id]

    def unit(s: Session) -> tuple[dict[str, Any], tuple[int, int, bool]]:
        conn = s.connection()
        rows = {r.id: r for r in conn.execute(_BLOCK_VALUES_Q, {"ids": ids})} if ids else {}
        return rows, _counts(conn, agent_id, run_id)

    rows, (recall, archival, cancelled) = await db.read(unit)
    for block in blocks:
        row = rows.get(block.block_id or "")
        if row is not None:
            block.value, block.limit, block.read_only = row.value, row.limit, row.read_only
    return Refresh(recall, archival, cancelled)


def system_text(snap: AgentSnapshot, recall: int, archival: int) -> str:
    guidance = prompt_guidance(snap.rules) if snap.rules else ""
    stats = MemoryStats(recall_count=max(0, recall - len(snap.message_ids)), archival_count=archival,
                        last_modified=utcnow())
    return compile_system_prompt(snap.system, snap.blocks, stats, guidance or None)


@dataclass
class StepWrite:
    """Everything one step changes, written in one transaction."""

    agent_id: str
    step: dict[str, Any] | None  # a steps row
    messages: list[StoredMessage]
    in_context_ids: list[str]
    changed_blocks: list[MemoryBlock]
    system_message_id: str | None
    system_text: str | None
    expected_version: datetime | None = None  # the agent row's updated_at as this turn last saw it
    run_id: str | None = None
    usage: dict[str, Any] | None = None
    close_reason: str | None = None  # the turn's stop reason, on its last step: the run completes with it
    written_at: datetime = field(default_factory=utcnow)


async def write_step(db: Database, w: StepWrite) -> bool:
    """Write one step. True when the agent row was as the turn last saw it (no edit from elsewhere in
    between): the caller may then keep its in-context messages cached under ``w.written_at``.

    On Postgres a step that edited no memory block is one statement (``_one_statement``): a transaction
    of five statements costs seven round trips there. Block edits also recompile the prompts of the
    agents sharing those blocks, which takes the ORM: those steps are a transaction of statements."""
    if db.is_postgres and not any(b.block_id for b in w.changed_blocks):
        return await db.write_one(lambda s: _write_one(s, w))
    return await db.write(lambda s: _write(s, w))


# The step's statements, built once (Core, table-level: no ORM bookkeeping, compiled once and cached).
_agents, _jobs, _messages = AgentRow.__table__, JobRow.__table__, MessageRow.__table__
_INSERT_MESSAGES = insert(_messages)
_INSERT_STEP = insert(StepRow.__table__)
_UPDATE_BLOCK = (update(BlockRow.__table__).where(BlockRow.__table__.c.id == bindparam("block_id"))
                 .values(value=bindparam("value"), updated_at=bindparam("now")))
_UPDATE_SYSTEM = (update(_messages).where(_messages.c.id == bindparam("message_id"))
                  .values(text=bindparam("text"), content=bindparam("content")))
_UPDATE_AGENT = (update(_agents).where(_agents.c.id == bindparam("agent_id"))
                 .values(message_ids=bindparam("ids"), last_run_completion=bindparam("now"),
                         updated_at=bindparam("now")))
_UPDATE_AGENT_IF_UNCHANGED = _UPDATE_AGENT.where(_agents.c.updated_at == bindparam("expected"))
_UPDATE_RUN_USAGE = (update(_jobs).where(_jobs.c.id == bindparam("run_id"))
                     .values(usage=bindparam("usage"), updated_at=bindparam("now")))
_CLOSE_RUN = (update(_jobs).where(_jobs.c.id == bindparam("run_id"))
              .values(usage=bindparam("usage"), updated_at=bindparam("now"), completed_at=bindparam("now"),
                      stop_reason=bindparam("stop_reason"),
                      status=case((_jobs.c.status == "cancelled", "cancelled"), else_="completed")))  # a cancel stays


def _rows_of(table: Any, names: Sequence[str], param: str) -> Select[Any]:
    """``SELECT ... FROM jsonb_to_recordset(:param) AS r(col type, ...)``: rows for ``table`` passed as one
    JSON array, so that one prepared statement inserts any number of them."""
    cols = [table.c[n] for n in names]
    rows = (func.jsonb_to_recordset(bindparam(param, type_=JSONType()))
            .table_valued(*[column(c.name, c.type) for c in cols])
            .render_derived(name=f"{param}_rows", with_types=True))
    return select(*[rows.c[c.name] for c in cols])


_MESSAGE_COLUMNS = tuple(message_values(StoredMessage(id="", agent_id="", role="user")))
_STEP_COLUMNS = ("id", "agent_id", "run_id", "provider_name", "model", "model_endpoint", "context_window_limit",
                 "prompt_tokens", "completion_tokens", "total_tokens", "stop_reason", "created_at")
_closing = bindparam("w_close", type_=Boolean)
_now = bindparam("w_now", type_=_agents.c.updated_at.type)


def _step_statement() -> Select[Any]:
    """A step as one Postgres statement (data-modifying CTEs are one atomic statement), built once.

    The agent row is locked first (FOR UPDATE) and returns its ``updated_at`` from before this write;
    no row: the agent is gone. Messages and the step row come as JSON arrays (no step row: an empty
    one); the system message and the run are updated when their ids are given (NULL matches nothing).
    Parameters are named ``w_*``: SQLAlchemy would add a parameter named like a column to the SET clause
    of an UPDATE inside a CTE.
    """
    prev = (select(_agents.c.id, _agents.c.updated_at).where(_agents.c.id == bindparam("w_agent"))
            .with_for_update().subquery("prev"))
    agent = (update(_agents).where(_agents.c.id == prev.c.id)
             .values(message_ids=bindparam("w_ids"), last_run_completion=_now, updated_at=_now)
             .returning(prev.c.updated_at.label("prev")).cte("agent_row"))
    messages = insert(_messages).from_select(_MESSAGE_COLUMNS, _rows_of(_messages, _MESSAGE_COLUMNS, "w_messages"))
    steps = StepRow.__table__
    step = insert(steps).from_select(_STEP_COLUMNS, _rows_of(steps, _STEP_COLUMNS, "w_steps"))
    system = (update(_messages).where(_messages.c.id == bindparam("w_system_id"))
              .values(text=bindparam("w_system_text"), content=bindparam("w_system_content")))
    run = (update(_jobs).where(_jobs.c.id == bindparam("w_run"))
           .values(usage=bindparam("w_usage"), updated_at=_now,
                   completed_at=case((_closing, _now), else_=_jobs.c.completed_at),
                   stop_reason=case((_closing, bindparam("w_stop_reason", type_=_jobs.c.stop_reason.type)),
                                    else_=_jobs.c.stop_reason),
                   status=case((and_(_closing, _jobs.c.status != "cancelled"), "completed"),  # a cancel stays
                               else_=_jobs.c.status)))
    return (select(agent.c.prev).add_cte(messages.cte("new_messages")).add_cte(step.cte("new_step"))
            .add_cte(system.cte("system_message")).add_cte(run.cte("run")))


_STEP_STATEMENT = _step_statement()


def _json_row(values: dict[str, Any]) -> dict[str, Any]:
    return {k: v.isoformat() if isinstance(v, datetime) else v for k, v in values.items()}


def _write_one(s: Session, w: StepWrite) -> bool:
    now = w.written_at
    for msg in w.messages:
        msg.created_at = msg.created_at or now
    step = [_json_row({"prompt_tokens": 0, "completion_tokens": 0, "total_tokens": 0, "created_at": now, **w.step})
            ] if w.step is not None else []
    run_id = w.run_id if w.run_id and (w.close_reason is not None or w.usage is not None) else None
    system = w.system_text if w.system_message_id else None
    params = {"w_agent": w.agent_id, "w_ids": list(w.in_context_ids), "w_now": now,
              "w_messages": [_json_row(message_values(m)) for m in w.messages], "w_steps": step,
              "w_system_id": w.system_message_id if system is not None else None, "w_system_text": system,
              "w_system_content": [{"type": "text", "text": system}] if system is not None else None,
              "w_run": run_id, "w_usage": w.usage, "w_close": w.close_reason is not None,
              "w_stop_reason": w.close_reason}
    conn = s.connection()
    try:
        row = conn.execute(_STEP_STATEMENT, params).first()
    except IntegrityError:  # the messages' agent is gone
        row = None
        if conn.execute(select(_agents.c.id).where(_agents.c.id == w.agent_id)).first() is not None:
            raise
    if row is None:  # deleted mid-turn: nothing to keep (the statement wrote nothing)
        raise NotFoundError.for_id("Agent", w.agent_id)
    return w.expected_version is not None and row.prev == w.expected_version


def _write(s: Session, w: StepWrite) -> bool:
    conn = s.connection()
    now = w.written_at
    # The agent row first: its row lock orders this write after any edit in flight. One statement when
    # nothing changed the row since the turn read it (the usual case); a second one otherwise.
    values = {"agent_id": w.agent_id, "ids": list(w.in_context_ids), "now": now}
    unchanged = w.expected_version is not None and conn.execute(
        _UPDATE_AGENT_IF_UNCHANGED, {**values, "expected": w.expected_version}).rowcount == 1
    if not unchanged and conn.execute(_UPDATE_AGENT, values).rowcount == 0:  # deleted mid-turn: nothing to keep
        raise NotFoundError.for_id("Agent", w.agent_id)
    if w.messages:
        for msg in w.messages:
            msg.created_at = msg.created_at or now
        conn.execute(_INSERT_MESSAGES, [message_values(m) for m in w.messages])
    if w.step is not None:
        conn.execute(_INSERT_STEP, w.step)
    changed = [b for b in w.changed_blocks if b.block_id]
    if changed:
        conn.execute(_UPDATE_BLOCK, [{"block_id": b.block_id, "value": b.value, "now": now} for b in changed])
    if w.system_message_id and w.system_text is not None:
        conn.execute(_UPDATE_SYSTEM, {"message_id": w.system_message_id, "text": w.system_text,
                                      "content": [{"type": "text", "text": w.system_text}]})
    if w.run_id and w.close_reason is not None:
        conn.execute(_CLOSE_RUN, {"run_id": w.run_id, "usage": w.usage, "now": now, "stop_reason": w.close_reason})
    elif w.run_id and w.usage is not None:
        conn.execute(_UPDATE_RUN_USAGE, {"run_id": w.run_id, "usage": w.usage, "now": now})
    if changed:
        # Other agents sharing these blocks see the change in their system prompt too.
        from host.services.memory import recompile_sharing

        agent = s.get(AgentRow, w.agent_id)
        for block in changed:
            recompile_sharing(s, block.block_id or "", first=agent)
    return unchanged
