"""A JSON column given ``EncodedJSON`` stores that text as it is (no second encoding) and reads it back as the
value it encodes; a plain value is still encoded; on SQLite through the units' synchronous engine and the
async engine, on Postgres (JSONB) through asyncpg."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import insert, select, text

from host.persistence.db import Database
from host.persistence.models import JobRow
from host.persistence.types import EncodedJSON

pytestmark = pytest.mark.anyio


async def test_encoded_json_is_stored_as_its_text_and_read_back_as_its_value(db: Database) -> None:
    value = {"model": "m", "messages": [{"role": "user", "content": "héllo \"quoted\""}], "n": 1.5}
    rows = [dict(id="job-enc-unit", job_type="job", status="created", payload=EncodedJSON(json.dumps(value))),
            dict(id="job-enc-plain", job_type="job", status="created", payload=value)]
    await db.write(lambda s: s.execute(insert(JobRow.__table__), rows[:1]))  # a unit (SQLite: the sync engine)
    async with db.transaction() as s:  # the async engine
        await s.execute(insert(JobRow.__table__), rows[1:])

    def stored(s) -> dict[str, object]:
        return dict(s.execute(select(JobRow.id, JobRow.payload).where(JobRow.id.like("job-enc-%"))).all())

    assert await db.read(stored) == {"job-enc-unit": value, "job-enc-plain": value}
    # Stored once-encoded: the database sees an object, not a string holding JSON.
    kind = "jsonb_typeof(payload)" if db.is_postgres else "json_type(payload)"
    async with db.session() as s:
        kinds = (await s.execute(text(f"SELECT id, {kind} FROM jobs WHERE id LIKE 'job-enc-%'"))).all()
    assert dict(kinds) == {"job-enc-unit": "object", "job-enc-plain": "object"}
