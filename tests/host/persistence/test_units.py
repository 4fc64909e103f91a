"""Units of work (``Database.read`` / ``Database.write``): committed or rolled back as a whole, and on
SQLite safe beside the async engine (a second, synchronous connection pool on the same file)."""

from __future__ import annotations


import anyio
import pytest
from sqlalchemy import func, insert, select
from sqlalchemy.orm import Session

from host.persistence.db import Database
from host.persistence.models import JobRow

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
