"""Units of work (``Database.read`` / ``Database.write``): committed or rolled back as a whole, and on
SQLite safe beside the async engine (a second, synchronous connection pool on the same file)."""

from __future__ import annotations

import time
from collections.abc import Callable

import anyio
import pytest
from sqlalchemy import Connection, event, func, insert, select, text
from sqlalchemy.orm import Session

from host.persistence.db import Database, open_database, sqlite_connect, sqlite_file
from host.persistence.models import JobRow
from host.persistence.units import pinned
from tests.conftest import PG_ADMIN_URI

pytestmark = pytest.mark.anyio


async def count(db: Database, prefix: str) -> int:
    return await db.read(lambda s: s.execute(select(func.count()).select_from(JobRow)
                                             .where(JobRow.id.like(f"{prefix}%"))).scalar_one())


async def test_a_unit_that_raises_leaves_nothing_written(db: Database) -> None:
    def unit(s: Session) -> None:
        s.execute(insert(JobRow).values(id="job-half", job_type="job", status="created"))
        raise ValueError("half-way")

    with pytest.raises(ValueError):
        await db.write(unit)
    assert await count(db, "job-half") == 0


async def test_a_peek_reads_committed_data_on_a_bare_connection_outside_any_transaction(db: Database) -> None:
    await db.write(lambda s: s.execute(insert(JobRow).values(id="job-peek", job_type="job", status="created")))

    def probe(conn: Connection) -> tuple[int, bool]:
        seen = conn.execute(select(func.count()).select_from(JobRow).where(JobRow.id == "job-peek")).scalar_one()
        if db.is_postgres:  # autocommit: the statement is its own transaction
            return seen, conn.get_execution_options().get("isolation_level") == "AUTOCOMMIT"
        raw = conn.connection.dbapi_connection
        return seen, raw is not None and not raw.in_transaction  # SQLite: no BEGIN was sent

    assert await db.peek(probe) == (1, True)


async def test_units_and_async_sessions_write_side_by_side(db: Database) -> None:
    async def by_unit(i: int) -> None:
        await db.write(lambda s: s.execute(insert(JobRow).values(id=f"job-u{i}", job_type="job", status="created")))

    async def by_session(i: int) -> None:
        async with db.transaction() as s:
            s.add(JobRow(id=f"job-s{i}", job_type="job", status="created"))

    async with anyio.create_task_group() as tg:
        for i in range(60):
            tg.start_soon(by_unit, i)
            tg.start_soon(by_session, i)
    assert await count(db, "job-u") == 60
    assert await count(db, "job-s") == 60
    async with db.session() as s:  # the async engine sees what the units wrote, and the other way round
        assert (await s.execute(select(func.count()).select_from(JobRow))).scalar_one() == 120


@pytest.mark.skipif(PG_ADMIN_URI is None, reason="connection pinning is for Postgres; runs in the Postgres pass")
async def test_pinned_units_run_on_the_pinned_connection_in_its_own_task_only(db: Database) -> None:
    def backend(s: Session) -> int:
        return int(s.execute(text("SELECT pg_backend_pid()")).scalar_one())

    async with db.engine.connect() as conn:
        conn = await conn.execution_options(isolation_level="AUTOCOMMIT")
        pid = (await conn.execute(text("SELECT pg_backend_pid()"))).scalar_one()
        others: list[int] = []
        async with pinned(conn):
            assert await db.read(backend) == pid
            assert await db.write(backend) == pid
            await db.write(lambda s: s.execute(insert(JobRow).values(id="job-pinned", job_type="job",
                                                                      status="created")))
            with pytest.raises(ValueError):
                await db.write(lambda s: (s.execute(insert(JobRow).values(id="job-rolled-back", job_type="job",
                                                                          status="created")), int("x")))
            async with anyio.create_task_group() as tg:  # another task: a pooled connection of its own
                async def other() -> None:
                    others.append(await db.read(backend))

                tg.start_soon(other)
        assert others and others[0] != pid
    assert await count(db, "job-pinned") == 1, "committed on the pinned connection"
    assert await count(db, "job-rolled-back") == 0


async def test_a_one_statement_unit_is_written_and_sees_its_own_result(db: Database) -> None:
    def unit(s: Session) -> int:
        return s.execute(insert(JobRow).values(id="job-one", job_type="job", status="created")).rowcount

    assert await db.write_one(unit) == 1
    assert await count(db, "job-one") == 1


@pytest.mark.skipif(PG_ADMIN_URI is None, reason="connection checks are for Postgres; runs in the Postgres pass")
async def test_an_idle_pooled_connection_that_died_is_replaced_before_use(database_url: str) -> None:
    def backend(s: Session) -> int:
        return int(s.execute(text("SELECT pg_backend_pid()")).scalar_one())

    async with open_database(database_url, pool_size=1, max_overflow=0, ping_after_idle_s=0.2) as db:
        first = await db.read(backend)
        assert await db.read(backend) == first, "one pooled connection, reused"
        async with open_database(database_url, run_migrations=False) as admin:
            assert await admin.read(lambda s: s.execute(text("SELECT pg_terminate_backend(:p)"),
                                                        {"p": first}).scalar_one())
        await anyio.sleep(0.4)  # idle past the window: checked, found dead, replaced
        second = await db.read(backend)
        assert second != first
        assert await db.read(backend) == second


@pytest.mark.skipif(PG_ADMIN_URI is None, reason="connection checks are for Postgres; runs in the Postgres pass")
async def test_a_connection_used_a_moment_ago_is_not_checked(database_url: str) -> None:
    """A dead connection inside the window is found by its first statement, which fails; the pool then
    replaces it (SQLAlchemy invalidates it on the disconnect)."""
    def backend(s: Session) -> int:
        return int(s.execute(text("SELECT pg_backend_pid()")).scalar_one())

    async with open_database(database_url, pool_size=1, max_overflow=0, ping_after_idle_s=60) as db:
        first = await db.read(backend)
        async with open_database(database_url, run_migrations=False) as admin:
            await admin.read(lambda s: s.execute(text("SELECT pg_terminate_backend(:p)"), {"p": first}))
        await anyio.sleep(0.2)
        with pytest.raises(Exception):  # noqa: B017 - whichever error the dead connection gives; then it is replaced
            await db.read(backend)
        assert await db.read(backend) != first


async def test_writers_of_one_process_queue_for_the_write_lock_without_a_connection_each(db: Database) -> None:
    """Twenty units writing at once, each holding its transaction a moment: all commit, and the SQLite units
    open no connection per waiting writer (they queue on the process's lock, not in SQLite's busy handler
    holding a pooled connection each: before, this opened about twenty)."""
    opened: list[object] = []
    engines = db.units.engines()

    def note(dbapi_conn, record) -> None:
        opened.append(dbapi_conn)

    for engine in engines:
        event.listen(engine, "connect", note)
    try:
        def unit(i: int) -> Callable[[Session], None]:
            def write(s: Session) -> None:
                s.execute(insert(JobRow).values(id=f"job-queue-{i}", job_type="job", status="created"))
                time.sleep(0.02)  # the transaction is held: the others wait for the write lock

            return write

        async with anyio.create_task_group() as tg:
            for i in range(20):
                tg.start_soon(db.write, unit(i))
    finally:
        for engine in engines:
            event.remove(engine, "connect", note)
    assert await count(db, "job-queue-") == 20
    if engines:  # a SQLite file: one connection serves the writers one after another (plus any pooled reader)
        assert len(opened) <= 2, len(opened)


async def test_a_peek_runs_on_the_event_loop_and_waits_off_it_when_the_file_is_locked(
        db: Database) -> None:
    """SQLite: a peek runs on the event loop's thread (no hop to a worker thread), on a connection that never
    waits for a lock. Whatever waits for a locked file (here another connection holds it in exclusive locking
    mode) waits in a worker thread instead: the event loop keeps running meanwhile, and the peek answers
    once the lock is gone."""
    import threading

    path = sqlite_file(db.engine)
    if path is None:  # Postgres: a peek is one statement through asyncpg, nothing to wait for here
        return
    await db.write(lambda s: s.execute(insert(JobRow).values(id="job-inline", job_type="job", status="created")))

    def probe(conn: Connection) -> tuple[str, str]:
        found = conn.execute(select(JobRow.status).where(JobRow.id == "job-inline"))
        return found.scalar_one(), threading.current_thread().name

    assert await db.peek(probe) == ("created", threading.current_thread().name)  # right here
    # Every connection of this process closed, so that another one can take the file for itself.
    await db.engine.dispose()
    db.close()
    holder = sqlite_connect(path)  # the server's SQLite library: in one process, POSIX locks alone never conflict
    holder.execute("PRAGMA locking_mode=EXCLUSIVE")
    holder.execute("BEGIN EXCLUSIVE")
    holder.execute("UPDATE jobs SET status = 'running' WHERE id = 'job-inline'")
    holder.execute("COMMIT")  # the exclusive lock stays: locking_mode=EXCLUSIVE keeps it until the close
    answers: list[tuple[str, str]] = []
    ticks = 0
    try:
        async with anyio.create_task_group() as tg:
            async def peek() -> None:
                answers.append(await db.peek(probe))

            tg.start_soon(peek)
            while ticks < 20:  # the loop runs while the peek waits
                await anyio.sleep(0.01)
                ticks += 1
            assert answers == []
            holder.close()
    finally:
        holder.close()
    assert [status for status, _ in answers] == ["running"], answers
