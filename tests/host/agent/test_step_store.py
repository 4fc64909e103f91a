"""The loop's store on a real database: one unit per step write, the agent-row version that tells a turn
whether its cached history is still good, and the in-process history cache itself."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import func, select, update

from host.agent.step_write import StepWrite, write_step
from host.agent.store import HistoryCache, load_turn
from host.agent.turn import RunLease
from host.domain.messages import StoredMessage
from host.errors import NotFoundError, RunTakenOverError
from host.ids import new_id, utcnow
from host.persistence.db import Database
from host.persistence.models import AgentRow, JobRow, MessageRow, StepRow

pytestmark = pytest.mark.anyio

LLM = {"model": "m", "model_endpoint_type": "openai", "context_window": 8000}


async def make_agent(db: Database) -> str:
    agent_id = new_id("agent")
    system = StoredMessage(id=new_id("message"), agent_id=agent_id, role="system", text="be brief")
    async with db.transaction() as s:
        s.add(AgentRow(id=agent_id, name=agent_id, llm_config=LLM, embedding_config={}, tool_rules=[],
                       message_ids=[system.id], tool_exec_env={}))
        await s.flush()
        s.add(MessageRow(id=system.id, agent_id=agent_id, role="system", text="be brief"))
    return agent_id


def user(agent_id: str, text: str) -> StoredMessage:
    return StoredMessage(id=new_id("message"), agent_id=agent_id, role="user", text=text, created_at=utcnow())


def step_write(agent_id: str, ids: list[str], messages: list[StoredMessage], expected: datetime | None,
               **extra: Any) -> StepWrite:
    return StepWrite(agent_id=agent_id, step=None, messages=messages, in_context_ids=ids, changed_blocks=[],
                     system_message_id=None, system_text=None, expected_version=expected, **extra)


async def test_a_write_tells_whether_the_agent_changed_since_the_turn_last_saw_it(db: Database) -> None:
    agent_id = await make_agent(db)
    loaded = await load_turn(db, agent_id)
    system_id = loaded.history[0].id
    first = user(agent_id, "one")
    w1 = step_write(agent_id, [system_id, first.id], [first], loaded.snap.version)
    assert await write_step(db, w1) is True

    second = user(agent_id, "two")
    w2 = step_write(agent_id, [system_id, first.id, second.id], [second], w1.written_at)
    assert await write_step(db, w2) is True

    async with db.transaction() as s:  # an edit from elsewhere (a REST PATCH) moves updated_at
        await s.execute(update(AgentRow).where(AgentRow.id == agent_id).values(description="edited"))
    third = user(agent_id, "three")
    w3 = step_write(agent_id, [system_id, first.id, second.id, third.id], [third], w2.written_at)
    assert await write_step(db, w3) is False, "the turn must not keep its cached history"

    reloaded = await load_turn(db, agent_id)
    assert [m.text for m in reloaded.history] == ["be brief", "one", "two", "three"]
    assert reloaded.recall == 4


async def test_the_last_step_closes_the_run_and_keeps_a_cancellation(db: Database) -> None:
    agent_id = await make_agent(db)
    loaded = await load_turn(db, agent_id)
    runs = []
    for status in ("running", "cancelled"):
        run_id = new_id("run")
        async with db.transaction() as s:
            s.add(JobRow(id=run_id, job_type="run", status=status, agent_id=agent_id))
        runs.append(run_id)
    for run_id in runs:
        msg = user(agent_id, run_id)
        usage = {"step_count": 1}
        await write_step(db, step_write(agent_id, [loaded.history[0].id, msg.id], [msg], None, run_id=run_id,
                                        usage=usage, close_reason="end_turn"))
    async with db.session() as s:
        rows = {r.id: r for r in (await s.execute(select(JobRow).where(JobRow.id.in_(runs)))).scalars()}
    done, cancelled = rows[runs[0]], rows[runs[1]]
    assert (done.status, done.stop_reason, done.usage) == ("completed", "end_turn", {"step_count": 1})
    assert done.completed_at is not None
    assert cancelled.status == "cancelled", "a cancel that landed first is not overwritten"


async def test_a_step_writes_only_while_its_run_is_this_processs_and_renews_the_lease(db: Database) -> None:
    """Another server claimed the run (its lease lapsed while this process stalled), or closed it as failed:
    the step writes nothing at all. While the run is ours, each step pushes its lease on."""
    agent_id = await make_agent(db)
    loaded = await load_turn(db, agent_id)
    system_id = loaded.history[0].id
    runs = {}
    for owner, status in (("instance-ours", "running"), ("instance-theirs", "running"), ("instance-ours", "failed")):
        run_id = new_id("run")
        async with db.transaction() as s:
            s.add(JobRow(id=run_id, job_type="run", status=status, agent_id=agent_id, owner=owner,
                         lease_expires_at=utcnow() - timedelta(seconds=5)))
        runs[(owner, status)] = run_id
    ours = RunLease("instance-ours", 30.0)
    for key in (("instance-theirs", "running"), ("instance-ours", "failed")):
        lost = user(agent_id, f"lost {key}")
        with pytest.raises(RunTakenOverError, match=runs[key]):
            await write_step(db, StepWrite(
                agent_id=agent_id, step={"id": new_id("step"), "agent_id": agent_id, "run_id": runs[key]},
                messages=[lost], in_context_ids=[system_id, lost.id], changed_blocks=[], system_message_id=None,
                system_text=None, expected_version=loaded.snap.version, run_id=runs[key], usage={"step_count": 1},
                lease=ours))
        async with db.session() as s:
            assert (await s.execute(select(func.count()).select_from(MessageRow)
                                    .where(MessageRow.id == lost.id))).scalar_one() == 0
            assert (await s.execute(select(func.count()).select_from(StepRow)
                                    .where(StepRow.run_id == runs[key]))).scalar_one() == 0
            assert (await s.get(AgentRow, agent_id)).message_ids == [system_id]
            assert (await s.get(JobRow, runs[key])).usage is None
    kept = user(agent_id, "kept")
    mine = runs[("instance-ours", "running")]
    w = step_write(agent_id, [system_id, kept.id], [kept], loaded.snap.version, run_id=mine,
                   usage={"step_count": 1}, lease=ours)
    assert await write_step(db, w) is True
    async with db.session() as s:
        row = await s.get(JobRow, mine)
        assert row.status == "running" and row.usage == {"step_count": 1}
        assert row.lease_expires_at == w.written_at + timedelta(seconds=30)
    assert [m.text for m in (await load_turn(db, agent_id)).history] == ["be brief", "kept"]


async def test_a_step_for_a_deleted_agent_writes_nothing(db: Database) -> None:
    agent_id = await make_agent(db)
    loaded = await load_turn(db, agent_id)
    async with db.transaction() as s:
        await s.delete(await s.get(AgentRow, agent_id))
    msg = user(agent_id, "lost")
    with pytest.raises(NotFoundError):
        await write_step(db, step_write(agent_id, [msg.id], [msg], loaded.snap.version))
    async with db.session() as s:
        assert (await s.execute(select(func.count()).select_from(MessageRow)
                                .where(MessageRow.id == msg.id))).scalar_one() == 0


async def test_a_turn_reuses_a_cached_history_only_at_the_same_version(db: Database) -> None:
    agent_id = await make_agent(db)
    cache = HistoryCache()
    loaded = await load_turn(db, agent_id, cache=cache)
    msg = user(agent_id, "hello")
    ids = [loaded.history[0].id, msg.id]
    w = step_write(agent_id, ids, [msg], loaded.snap.version)
    assert await write_step(db, w)
    cache.put(agent_id, w.written_at, [loaded.history[0], msg])

    again = await load_turn(db, agent_id, cache=cache)
    assert again.history[1] is msg, "the same objects: nothing read back"

    async with db.transaction() as s:
        row = (await s.execute(select(MessageRow).where(MessageRow.id == msg.id))).scalar_one()
        row.text = "edited elsewhere"
        await s.execute(update(AgentRow).where(AgentRow.id == agent_id).values(updated_at=utcnow()))
    fresh = await load_turn(db, agent_id, cache=cache)
    assert fresh.history[1] is not msg and fresh.history[1].text == "edited elsewhere"


def test_the_history_cache_forgets_the_least_recently_used_agent() -> None:
    cache = HistoryCache(max_agents=2)
    now = utcnow()
    msgs = {name: StoredMessage(id=f"message-{name}", agent_id=name, role="user", text=name) for name in "abc"}
    cache.put("a", now, [msgs["a"]])
    cache.put("b", now, [msgs["b"]])
    assert cache.get("a", now, ["message-a"]) == [msgs["a"]]  # a is now the most recent
    cache.put("c", now, [msgs["c"]])
    assert cache.get("b", now, ["message-b"]) is None
    assert cache.get("a", now, ["message-a"]) == [msgs["a"]]
    assert cache.get("c", now, ["message-c", "message-unknown"]) is None, "an id it does not hold"
    assert cache.get("c", datetime(2000, 1, 1), ["message-c"]) is None, "another version of the agent"
    cache.drop("c")
    assert cache.get("c", now, ["message-c"]) is None


async def test_a_step_writes_its_row_messages_system_prompt_and_usage_together(db: Database) -> None:
    agent_id = await make_agent(db)
    loaded = await load_turn(db, agent_id)
    system_id = loaded.history[0].id
    run_id, step_id = new_id("run"), new_id("step")
    async with db.transaction() as s:
        s.add(JobRow(id=run_id, job_type="run", status="running", agent_id=agent_id))
    msgs = [user(agent_id, "a"), user(agent_id, "b")]
    w = step_write(agent_id, [system_id] + [m.id for m in msgs], msgs, loaded.snap.version, run_id=run_id,
                   usage={"step_count": 1})
    w.step = {"id": step_id, "agent_id": agent_id, "run_id": run_id, "prompt_tokens": 7, "completion_tokens": 2,
              "total_tokens": 9}
    w.system_message_id, w.system_text = system_id, "be briefer"
    assert await write_step(db, w) is True

    async with db.session() as s:
        run = await s.get(JobRow, run_id)
        step = (await s.execute(select(StepRow).where(StepRow.id == step_id))).scalar_one()
        system = (await s.execute(select(MessageRow).where(MessageRow.id == system_id))).scalar_one()
        agent = await s.get(AgentRow, agent_id)
    assert (run.status, run.usage, run.completed_at) == ("running", {"step_count": 1}, None)
    assert (step.run_id, step.total_tokens) == (run_id, 9)
    assert system.text == "be briefer" and system.content == [{"type": "text", "text": "be briefer"}]
    assert agent.message_ids == [system_id] + [m.id for m in msgs] and agent.updated_at == w.written_at
    again = await load_turn(db, agent_id)
    assert [m.text for m in again.history] == ["be briefer", "a", "b"]
    async with db.session() as s:  # no tool calls: SQL NULL, not the JSON null (a search for "null" misses them)
        nulls = (await s.execute(select(func.count()).select_from(MessageRow).where(
            MessageRow.id.in_([m.id for m in msgs]), MessageRow.tool_calls.is_(None)))).scalar_one()
    assert nulls == 2


def test_the_one_statement_step_takes_no_column_from_its_parameter_names() -> None:
    """SQLAlchemy adds an execution parameter named like a column to the SET clause of an UPDATE inside
    a CTE: the statement must compile the same with its parameters as without."""
    from sqlalchemy.dialects import postgresql

    from host.agent.step_write import _STEP_STATEMENT

    dialect = postgresql.asyncpg.dialect()
    keys = [b.key for b in _STEP_STATEMENT.compile(dialect=dialect).binds.values()]
    assert str(_STEP_STATEMENT.compile(dialect=dialect, column_keys=keys)) == str(_STEP_STATEMENT.compile(
        dialect=dialect))
