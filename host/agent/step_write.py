"""A step's write: everything one step changes, in one transaction (on Postgres, one statement).

    unchanged = await write_step(db, StepWrite(...))   # True: the agent row was as the turn last saw it

On Postgres a step that edited no memory block is one prebuilt statement (``_step_statement``): a
transaction of five statements costs seven round trips there. Block edits also recompile the prompts
of the agents sharing those blocks, which takes the ORM: those steps, and every step on SQLite (where a
statement costs microseconds, not a round trip), are a transaction of prebuilt Core statements.

A step of a run carries the run's lease (``RunLease``): the write renews it, and only while the run is still
this process's (its owner, and not closed as failed or completed). A process that stalled past its lease may
find its run claimed by another server (``host.services.recovery``): then the step writes nothing and the
turn stops with ``RunTakenOverError``. The renewal is what keeps the two apart on Postgres: a claim waiting
on the run row re-checks the lease once this write commits.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import (
    Boolean,
    Connection,
    Select,
    and_,
    bindparam,
    case,
    column,
    exists,
    func,
    insert,
    or_,
    select,
    update,
)
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from builtin_tools import MemoryBlock
from host.agent.turn import RunLease
from host.domain.messages import StoredMessage
from host.errors import NotFoundError, RunTakenOverError
from host.ids import utcnow
from host.persistence.convert import message_values
from host.persistence.db import Database
from host.persistence.models import AgentRow, BlockRow, JobRow, MessageRow, StepRow
from host.persistence.types import JSONType


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
    lease: RunLease | None = None  # the run is written only while it is this process's (the module docstring)
    written_at: datetime = field(default_factory=utcnow)
    # Run in the write's transaction once the step is written, when the write is a unit of its own (SQLite, or
    # a step that edited blocks); its result is ``read_back``. The loop reads the next step's refresh so: on
    # SQLite one unit (a thread hop and a transaction) fewer per step after the first.
    read_after: Callable[[Connection], Any] | None = None
    read_back: Any = None

    @property
    def fenced(self) -> bool:
        return self.run_id is not None and self.lease is not None


async def write_step(db: Database, w: StepWrite) -> bool:
    """Write one step. True when the agent row was as the turn last saw it (no edit from elsewhere in
    between): the caller may then keep its in-context messages cached under ``w.written_at``."""
    for msg in w.messages:
        msg.created_at = msg.created_at or w.written_at
    if db.is_postgres and not any(b.block_id for b in w.changed_blocks):
        return await db.write_one(lambda s: _write_one(s, w))
    return await db.write(lambda s: _write_and_read(s, w))


def _write_and_read(s: Session, w: StepWrite) -> bool:
    unchanged = _write(s, w)
    if w.read_after is not None:
        w.read_back = w.read_after(s.connection())
    return unchanged


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
HELD = ("created", "running", "cancelled")  # a run its owner may still write to (a cancel lets the step in flight in)
_RENEW_RUN = (update(_jobs).where(_jobs.c.id == bindparam("run_id"), _jobs.c.owner == bindparam("fence_owner"),
                                  _jobs.c.status.in_(HELD))
              .values(lease_expires_at=bindparam("lease_until")))
_CLOSE_RUN = (update(_jobs).where(_jobs.c.id == bindparam("run_id"))
              .values(usage=bindparam("usage"), updated_at=bindparam("now"), completed_at=bindparam("now"),
                      stop_reason=bindparam("stop_reason"),
                      status=case((_jobs.c.status == "cancelled", "cancelled"), else_="completed")))  # a cancel stays


def _rows_of(table: Any, names: Sequence[str], param: str) -> Select[*tuple[Any, ...]]:
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

    The run is the fence (``w_fenced``): its UPDATE (which renews the lease) matches only while the run is
    this process's, and the agent row, the messages, the step and the system message are written only when it
    matched (they read its RETURNING, so it runs first). A step whose run was taken over returns no row and
    writes nothing.
    """
    prev = (select(_agents.c.id, _agents.c.updated_at).where(_agents.c.id == bindparam("w_agent"))
            .with_for_update().subquery("prev"))
    fenced = bindparam("w_fenced", type_=Boolean)
    run = (update(_jobs).where(_jobs.c.id == bindparam("w_run"),
                               or_(~fenced, and_(_jobs.c.owner == bindparam("w_owner"), _jobs.c.status.in_(HELD))))
           .values(usage=bindparam("w_usage"), updated_at=_now,
                   lease_expires_at=case((fenced, bindparam("w_lease_until", type_=_jobs.c.lease_expires_at.type)),
                                         else_=_jobs.c.lease_expires_at),
                   completed_at=case((_closing, _now), else_=_jobs.c.completed_at),
                   stop_reason=case((_closing, bindparam("w_stop_reason", type_=_jobs.c.stop_reason.type)),
                                    else_=_jobs.c.stop_reason),
                   status=case((and_(_closing, _jobs.c.status != "cancelled"), "completed"),  # a cancel stays
                               else_=_jobs.c.status))
           .returning(_jobs.c.id).cte("run"))
    agent = (update(_agents).where(_agents.c.id == prev.c.id, or_(~fenced, exists(select(run.c.id))))
             .values(message_ids=bindparam("w_ids"), last_run_completion=_now, updated_at=_now)
             .returning(prev.c.updated_at.label("prev")).cte("agent_row"))
    written = exists(select(agent.c.prev))
    messages = insert(_messages).from_select(
        _MESSAGE_COLUMNS, _rows_of(_messages, _MESSAGE_COLUMNS, "w_messages").where(written))
    steps = StepRow.__table__
    step = insert(steps).from_select(_STEP_COLUMNS, _rows_of(steps, _STEP_COLUMNS, "w_steps").where(written))
    system = (update(_messages).where(_messages.c.id == bindparam("w_system_id"), written)
              .values(text=bindparam("w_system_text"), content=bindparam("w_system_content")))
    return (select(agent.c.prev).add_cte(messages.cte("new_messages")).add_cte(step.cte("new_step"))
            .add_cte(system.cte("system_message")))


_STEP_STATEMENT = _step_statement()


def _json_row(values: dict[str, Any]) -> dict[str, Any]:
    return {k: v.isoformat() if isinstance(v, datetime) else v for k, v in values.items()}


def _write_one(s: Session, w: StepWrite) -> bool:
    now = w.written_at
    step = [_json_row({"prompt_tokens": 0, "completion_tokens": 0, "total_tokens": 0, "created_at": now, **w.step})
            ] if w.step is not None else []
    run_id = w.run_id if w.run_id and (w.fenced or w.close_reason is not None or w.usage is not None) else None
    system = w.system_text if w.system_message_id else None
    params = {"w_agent": w.agent_id, "w_ids": list(w.in_context_ids), "w_now": now,
              "w_messages": [_json_row(message_values(m)) for m in w.messages], "w_steps": step,
              "w_system_id": w.system_message_id if system is not None else None, "w_system_text": system,
              "w_system_content": [{"type": "text", "text": system}] if system is not None else None,
              "w_run": run_id, "w_usage": w.usage, "w_close": w.close_reason is not None,
              "w_stop_reason": w.close_reason, "w_fenced": w.fenced, "w_owner": w.lease.owner if w.lease else None,
              "w_lease_until": _lease_until(w)}
    conn = s.connection()
    try:
        row = conn.execute(_STEP_STATEMENT, params).first()
    except IntegrityError:  # the messages' agent is gone
        row = None
        if conn.execute(select(_agents.c.id).where(_agents.c.id == w.agent_id)).first() is not None:
            raise
    if row is None:  # the statement wrote nothing: the agent was deleted mid-turn, or the run taken over
        if w.fenced and conn.execute(select(_agents.c.id).where(_agents.c.id == w.agent_id)).first() is not None:
            raise RunTakenOverError.for_run(w.run_id or "")
        raise NotFoundError.for_id("Agent", w.agent_id)
    return w.expected_version is not None and row.prev == w.expected_version


def _lease_until(w: StepWrite) -> datetime | None:
    return w.written_at + timedelta(seconds=w.lease.seconds) if w.lease is not None else None


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
    if w.fenced and w.lease is not None and conn.execute(_RENEW_RUN, {
            "run_id": w.run_id, "fence_owner": w.lease.owner, "lease_until": _lease_until(w)}).rowcount == 0:
        raise RunTakenOverError.for_run(w.run_id or "")  # the transaction rolls back: nothing written
    if w.messages:
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
        from host.memory import recompile_sharing

        agent = s.get(AgentRow, w.agent_id)
        for block in changed:
            recompile_sharing(s, block.block_id or "", first=agent)
    return unchanged
