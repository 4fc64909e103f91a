"""A background run's stream, kept in the database so it outlives its client and can be resumed.

``append`` stores one encoded event under the next ``seq_id`` (counting from 1 within the run); the last
row of a finished stream is the ``END`` marker, never sent. ``follow`` replays the events after a cursor
and then follows new ones: a writer in this process wakes its followers at once; a follower in another
process sharing the database (Postgres) sees them within ``POLL_S``. Nothing beyond the database: no
Redis, no broker.

A follower stops at the ``END`` marker; for a run that is not a background stream (nothing is written),
once the run is no longer active; for a background run whose writer died, once the run is no longer
active and ``GRACE_S`` passed without a new row.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from typing import Any

import anyio
from sqlalchemy import insert, select

from host.ids import utcnow
from host.persistence.db import Database
from host.persistence.models import JobRow, RunEventRow

END = "end_of_stream"  # the marker's message_type
POLL_S = 0.1
GRACE_S = 2.0
BATCH = 500
_ACTIVE = ("created", "running")


class RunEventLog:
    def __init__(self, db: Database) -> None:
        self.db = db
        self._wake: dict[str, anyio.Event] = {}

    async def append(self, run_id: str, seq_id: int, payload: dict[str, Any]) -> None:
        async with self.db.transaction() as s:
            await s.execute(insert(RunEventRow).values(run_id=run_id, seq_id=seq_id, payload=payload,
                                                       created_at=utcnow()))
        event = self._wake.pop(run_id, None)
        if event is not None:
            event.set()

    async def end(self, run_id: str, seq_id: int) -> None:
        await self.append(run_id, seq_id, {"message_type": END})

    async def _after(self, run_id: str, cursor: int) -> list[tuple[int, dict[str, Any]]]:
        async with self.db.session() as s:
            rows = await s.execute(select(RunEventRow.seq_id, RunEventRow.payload)
                                   .where(RunEventRow.run_id == run_id, RunEventRow.seq_id > cursor)
                                   .order_by(RunEventRow.seq_id).limit(BATCH))
            return [(seq, payload) for seq, payload in rows.all()]

    async def _state(self, run_id: str) -> tuple[bool, bool]:
        """(active, background): whether the run still runs, and whether its events are being stored."""
        async with self.db.session() as s:
            row = (await s.execute(select(JobRow.status, JobRow.request_config).where(JobRow.id == run_id))).first()
        if row is None:
            return False, False
        return row[0] in _ACTIVE, bool((row[1] or {}).get("background"))

    async def follow(self, run_id: str, starting_after: int = 0) -> AsyncIterator[dict[str, Any]]:
        """The run's events after ``starting_after``, then new ones as they are written, to the end."""
        cursor, idle_since = starting_after, time.monotonic()
        while True:
            wake = self._wake.setdefault(run_id, anyio.Event())  # before reading: no write is missed
            rows = await self._after(run_id, cursor)
            for seq, payload in rows:
                if payload.get("message_type") == END:
                    return
                cursor = seq
                yield payload
            if rows:
                idle_since = time.monotonic()
                continue
            active, background = await self._state(run_id)
            # a background run's writer may lag its run (the run closes before its last events are
            # stored): wait for END, unless the writer died (GRACE_S without a row after the run ended)
            if not active and (not background or time.monotonic() - idle_since > GRACE_S):
                self._wake.pop(run_id, None)
                return
            with anyio.move_on_after(POLL_S):
                await wake.wait()


__all__ = ["END", "RunEventLog"]
