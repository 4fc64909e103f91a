"""Postgres: a process that stalls inside a transaction (here: a session that takes a row lock and then
does nothing) does not block the other processes of the database for ever. The server ends the stalled
session after ``idle_in_transaction_s``, its lock goes with it, the other process's UPDATE of that row
goes through, and the stalled process's pool recovers: its next transaction runs on a fresh connection."""

from __future__ import annotations

import anyio
import pytest
from sqlalchemy import insert, select, text, update
from sqlalchemy.exc import DBAPIError

from host.persistence.db import Database, open_database
from host.persistence.models import JobRow

pytestmark = pytest.mark.anyio


async def test_a_session_idle_in_a_transaction_is_ended_and_its_row_lock_released(database_url: str,
                                                                                   db: Database) -> None:
    if not db.is_postgres:  # SQLite: one process holds the file's write lock only while a unit runs
        return
    jobs = JobRow.__table__
    await db.write(lambda s: s.execute(insert(jobs), [dict(id="job-idle", job_type="run", status="running")]))
    async with open_database(database_url, run_migrations=False, idle_in_transaction_s=1.0) as stalled:
        async with stalled.engine.connect() as conn:
            shown = (await conn.execute(text("SHOW idle_in_transaction_session_timeout"))).scalar_one()
            assert shown == "1s"
        blocked_for = None
        with pytest.raises(DBAPIError):  # the server ended the session while it held the lock
            async with stalled.transaction() as s:
                await s.execute(update(jobs).where(jobs.c.id == "job-idle").values(owner="stalled"))
                # The other process's UPDATE waits on the row lock, then goes through once the server has
                # ended this session (not when this transaction would have ended: it never does).
                started = anyio.current_time()
                async with db.transaction() as other:
                    with anyio.fail_after(60):
                        await other.execute(update(jobs).where(jobs.c.id == "job-idle").values(owner="sweeper"))
                blocked_for = anyio.current_time() - started
                await s.execute(select(1))  # the stalled process wakes: its session is gone
        assert blocked_for is not None and blocked_for >= 0.5, blocked_for  # it had waited on the lock
        async with stalled.session() as s:  # a fresh connection: the pool dropped the ended one
            assert (await s.execute(select(jobs.c.owner).where(jobs.c.id == "job-idle"))).scalar_one() == "sweeper"
