"""Units on the event loop's own SQLite connection (``host.persistence.on_loop``): run right there when nothing
has to wait, in a worker thread when something would, and the write-ahead log checkpointed off the loop.

Always on a SQLite file (the mechanism is SQLite's), whichever database the suite runs on."""

from __future__ import annotations

import hashlib
import shutil
import sqlite3
import threading
from collections.abc import AsyncIterator
from contextvars import ContextVar
from pathlib import Path

import anyio
import pytest
from sqlalchemy import func, insert, select, text
from sqlalchemy.orm import Session

from host.persistence.db import Database, open_database, sqlite_connect
from host.persistence.models import JobRow
from host.persistence.on_loop import CHECKPOINT_EVERY

pytestmark = pytest.mark.anyio


@pytest.fixture
async def sqlite_db(tmp_path: Path) -> AsyncIterator[Database]:
    async with open_database(f"sqlite+aiosqlite:///{tmp_path / 'units.db'}") as database:
        yield database


def _job(s: Session, job_id: str, payload: dict[str, object] | None = None) -> str:
    s.execute(insert(JobRow).values(id=job_id, job_type="job", status="created", payload=payload))
    return threading.current_thread().name


def _jobs(s: Session, prefix: str) -> int:
    return int(s.execute(select(func.count()).select_from(JobRow).where(JobRow.id.like(f"{prefix}%"))).scalar_one())


async def test_units_run_on_the_event_loops_thread_and_bulk_ones_in_a_worker_thread(sqlite_db: Database) -> None:
    here = threading.current_thread().name
    assert await sqlite_db.write(lambda s: _job(s, "job-here")) == here
    assert await sqlite_db.read(lambda s: (_jobs(s, "job-here"), threading.current_thread().name)) == (1, here)
    assert await sqlite_db.write(lambda s: _job(s, "job-bulk"), bulk=True) != here
    assert await sqlite_db.read(lambda s: threading.current_thread().name, bulk=True) != here
    # What a unit on the loop wrote, the loop's reader (another connection) and the async engine see.
    assert await sqlite_db.peek(lambda conn: conn.execute(select(func.count()).select_from(JobRow)).scalar_one()) == 2
    async with sqlite_db.session() as s:
        assert (await s.execute(select(func.count()).select_from(JobRow))).scalar_one() == 2


async def test_a_write_waits_in_a_worker_thread_while_another_connection_holds_the_write_lock(
        sqlite_db: Database) -> None:
    """Another connection (another process, say) holds SQLite's write lock: the unit does not wait on the loop
    (the loop keeps ticking), waits in a worker thread, and commits once the lock is free. Reads meanwhile still
    run on the loop: a WAL reader waits for nobody."""
    path = sqlite_db.engine.url.database
    assert path
    await sqlite_db.write(lambda s: _job(s, "job-first"))  # the loop's connections are open
    # The connection the loop's units run on gives up at once on a lock (a wait there would stop the loop).
    assert await sqlite_db.read(lambda s: s.execute(text("PRAGMA busy_timeout")).scalar_one()) == 0
    holder = sqlite_connect(path)
    holder.execute("BEGIN IMMEDIATE")
    holder.execute("INSERT INTO jobs (id, job_type, status, created_at, updated_at) VALUES ('job-holder', 'job', 'created', '2026-01-01 00:00:00', '2026-01-01 00:00:00')")
    written: list[str] = []
    ticks = 0
    try:
        async with anyio.create_task_group() as tg:
            async def write() -> None:
                written.append(await sqlite_db.write(lambda s: _job(s, "job-waited")))

            tg.start_soon(write)
            while ticks < 20:  # the loop runs while the write waits
                await anyio.sleep(0.01)
                ticks += 1
            assert written == []
            seen = await sqlite_db.read(lambda s: (_jobs(s, "job-"), threading.current_thread().name))
            assert seen == (1, threading.current_thread().name), "a read runs on the loop, seeing what is committed"
            holder.commit()
    finally:
        holder.close()
    assert written and written[0] != threading.current_thread().name, "it waited in a worker thread"
    assert await sqlite_db.read(lambda s: _jobs(s, "job-")) == 3
    # The loop's connection, refused its BEGIN IMMEDIATE a moment ago, takes the next write again.
    assert await sqlite_db.write(lambda s: _job(s, "job-again")) == threading.current_thread().name


async def test_a_failing_unit_on_the_loop_leaves_nothing_and_the_next_one_runs_there_again(
        sqlite_db: Database) -> None:
    def half(s: Session) -> None:
        _job(s, "job-half")
        raise ValueError("half-way")

    with pytest.raises(ValueError):
        await sqlite_db.write(half)
    assert await sqlite_db.write(lambda s: _job(s, "job-after")) == threading.current_thread().name
    assert await sqlite_db.read(lambda s: (_jobs(s, "job-half"), _jobs(s, "job-after"))) == (0, 1)


async def test_the_log_is_checkpointed_off_the_loop_every_so_many_commits_made_there(
        sqlite_db: Database, tmp_path: Path) -> None:
    """The loop's connection never checkpoints by itself (a checkpoint copies the log into the database, with
    fsyncs): the database file does not change over nearly ``CHECKPOINT_EVERY`` commits of several pages each
    (more than SQLite's own threshold of 1000 pages), and the commit that reaches it has the log copied in."""
    path = Path(sqlite_db.engine.url.database or "")
    await sqlite_db.write(lambda s: _job(s, "job-open"))  # the loop's connections are open
    await anyio.to_thread.run_sync(sqlite_db.units._checkpoint)  # noqa: SLF001 - a file holding all so far
    here = sqlite_db.units._on_loop  # noqa: SLF001
    assert here is not None
    before = hashlib.sha256(path.read_bytes()).hexdigest()
    big = {"text": "x" * 24_000}  # six pages a row
    for i in range(CHECKPOINT_EVERY - here.commits - 1):
        await sqlite_db.write(lambda s, i=i: _job(s, f"job-ck-{i:04d}", big))
    assert hashlib.sha256(path.read_bytes()).hexdigest() == before, "no checkpoint on the loop's connection"
    await sqlite_db.write(lambda s: _job(s, "job-ck-last", big))
    copy = tmp_path / "main-file-only.db"  # the database file alone: what was checkpointed into it
    shutil.copyfile(path, copy)
    with sqlite3.connect(copy) as alone:
        found = alone.execute("SELECT count(*) FROM jobs WHERE id LIKE 'job-ck-%'").fetchone()[0]
    assert found == await sqlite_db.read(lambda s: _jobs(s, "job-ck-")) >= CHECKPOINT_EVERY // 2


async def test_units_called_from_another_threads_event_loop_run_in_worker_threads(sqlite_db: Database) -> None:
    """The loop's connections are that loop's: a unit called from an event loop on another thread runs in a
    worker thread (both connections stay with the thread that opened them)."""
    await sqlite_db.write(lambda s: _job(s, "job-mine"))
    seen: list[tuple[int, str, str]] = []

    def other_thread() -> None:
        async def main() -> None:
            n, ran_on = await sqlite_db.read(lambda s: (_jobs(s, "job-"), threading.current_thread().name))
            seen.append((n, ran_on, threading.current_thread().name))

        anyio.run(main)

    thread = threading.Thread(target=other_thread, name="other-loop")
    thread.start()
    await anyio.to_thread.run_sync(thread.join)
    assert len(seen) == 1
    n, ran_on, loop_thread = seen[0]
    assert n == 1 and loop_thread == "other-loop" and ran_on not in ("other-loop", threading.current_thread().name)


async def test_a_short_page_of_agents_is_read_on_the_loop_a_long_one_and_a_cascade_delete_in_worker_threads(
        tmp_path: Path) -> None:
    """The services' bulk units: an agent's delete (a cascade over its messages and links) and a page of more
    than 100 agents run where SQLite's work, or the views' building, does not hold up the event loop."""
    from sqlalchemy import event

    from host.app import open_services
    from host.schemas.agents import CreateAgentRequest
    from host.settings import Settings

    env = {"HOME": str(tmp_path), "LETTA_DIR": str(tmp_path), "OPENAI_API_KEY": "x",
           "OPENAI_API_BASE": "http://127.0.0.1:9/v1"}  # a SQLite file under LETTA_DIR, whatever the suite runs on
    body = {"llm_config": {"model": "gpt-4o-mini", "model_endpoint_type": "openai", "context_window": 32000},
            "embedding_config": {"embedding_model": "x", "embedding_endpoint_type": "openai", "embedding_dim": 8}}
    loop = threading.current_thread().name
    threads: list[str] = []

    mine: ContextVar[bool] = ContextVar("on_loop_test_statements", default=False)

    def note(*_args: object) -> None:
        if mine.get():  # this task's statements (a worker thread runs in the caller's context), not background work
            threads.append(threading.current_thread().name)

    async with open_services(Settings.from_env(env)) as svc:
        engines = svc.db.engines()
        for engine in engines:
            event.listen(engine, "before_cursor_execute", note)
        state, _ = await svc.agents.create(CreateAgentRequest.model_validate(body))
        token = mine.set(True)
        try:
            await svc.agents.list(limit=10)
            short_page, threads[:] = list(threads), []
            await svc.agents.list(limit=500)
            long_page, threads[:] = list(threads), []
            await svc.agents.delete(state.id)
            deleted = list(threads)
        finally:
            mine.reset(token)
            for engine in engines:
                event.remove(engine, "before_cursor_execute", note)
    assert short_page and set(short_page) == {loop}
    assert long_page and loop not in long_page
    assert deleted and loop not in deleted
