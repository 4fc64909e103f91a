"""One turn per agent at a time: an in-process lock, plus a lock across the processes sharing the database.

Across processes: on Postgres an advisory lock; on a SQLite file served by several workers a byte-range lock
on a file beside the database (``host.agent.file_locks``). A SQLite database that one process alone uses
needs neither.

On Postgres the advisory lock pins one pooled connection for the whole turn, and the turn needs
another one for its reads and writes. So the number of turns holding advisory locks at once is
capped at half the pool (size + overflow): many agents in parallel then queue here instead of
exhausting the pool (which would fail every turn with a pool timeout).
"""

from __future__ import annotations

import zlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import anyio
from sqlalchemy import text
from sqlalchemy.pool import QueuePool

from host.agent.file_locks import LOCK_NAME, FileLocks
from host.persistence.db import Database, sqlite_file
from host.persistence.units import pinned


class AgentLocks:
    def __init__(self, db: Database) -> None:
        self.db = db
        self._locks: dict[str, anyio.Lock] = {}
        self._users: dict[str, int] = {}
        self._pg_turns: anyio.CapacityLimiter | None = None
        path = sqlite_file(db.engine) if db.shared else None
        self._files = FileLocks(Path(path).with_name(LOCK_NAME)) if path else None

    @asynccontextmanager
    async def hold(self, agent_id: str) -> AsyncIterator[None]:
        lock = self._locks.setdefault(agent_id, anyio.Lock())
        self._users[agent_id] = self._users.get(agent_id, 0) + 1
        try:
            async with lock:
                if self.db.is_postgres:
                    # One token per turn, not per task: a turn may run another agent's turn inside it
                    # (send_message_to_agent_and_wait_for_reply) in the same task.
                    limiter, token = self._pg_limiter(), object()
                    await limiter.acquire_on_behalf_of(token)
                    try:
                        async with self._advisory(agent_id):
                            yield
                    finally:
                        limiter.release_on_behalf_of(token)
                elif self._files is not None:
                    async with self._files.hold(agent_id):
                        yield
                else:
                    yield
        finally:
            self._users[agent_id] -= 1
            if self._users[agent_id] == 0:
                self._users.pop(agent_id, None)
                self._locks.pop(agent_id, None)

    def close(self) -> None:
        if self._files is not None:
            self._files.close()

    def _pg_limiter(self) -> anyio.CapacityLimiter:
        if self._pg_turns is None:
            pool = self.db.engine.pool
            size = pool.size() if isinstance(pool, QueuePool) else 5
            total = size + max(0, int(getattr(pool, "_max_overflow", 0)))
            self._pg_turns = anyio.CapacityLimiter(max(1, total // 2))
        return self._pg_turns

    @asynccontextmanager
    async def _advisory(self, agent_id: str) -> AsyncIterator[None]:
        key = zlib.crc32(agent_id.encode()) - 2**31
        # Autocommit: a session-level lock needs no transaction around it (one round trip each way).
        # The turn's own reads and writes run on this connection too (units.pinned).
        async with self.db.engine.connect() as conn:
            conn = await conn.execution_options(isolation_level="AUTOCOMMIT")
            await conn.execute(text("SELECT pg_advisory_lock(:k)"), {"k": key})
            try:
                async with pinned(conn):
                    yield
            finally:
                with anyio.CancelScope(shield=True):
                    await conn.rollback()  # a unit interrupted half-way leaves nothing behind
                    conn = await conn.execution_options(isolation_level="AUTOCOMMIT")
                    await conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": key})
