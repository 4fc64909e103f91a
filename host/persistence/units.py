"""Units of work for the hot paths: one synchronous function ``fn(session) -> T``, run as a whole.

    loaded = await units.read(lambda s: load(s, agent_id))
    await units.write(lambda s: write(s, step))          # one transaction: committed, or rolled back

Why: through aiosqlite every statement costs several hops between the event loop and the connection's
thread (about 0.1 ms each), so a five-statement transaction cost about 6 ms, nearly all of it hops; the
same statements take microseconds on a synchronous connection. So on SQLite a unit runs whole in one
worker thread, on a synchronous connection to the same file (WAL lets it share the file with the async
engine; writers take the write lock up front with ``BEGIN IMMEDIATE`` and wait for each other through
``busy_timeout``). On Postgres a unit runs on an ordinary async session through SQLAlchemy's greenlet
bridge (asyncpg has no synchronous API, and its round trips are cheap); reads there run in autocommit.

An in-memory SQLite database cannot be opened twice: there, units run on the async engine too.
"""

from __future__ import annotations

from typing import Callable, TypeVar

import anyio
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlalchemy.orm import Session, sessionmaker

from host.persistence.db import Database, sqlite_connect

T = TypeVar("T")


class Units:
    def __init__(self, db: Database) -> None:
        self.db = db
        self._engine: Engine | None = None
        self._sessions: sessionmaker[Session] | None = None
        url = db.engine.url
        path = url.database or ""
        if url.get_backend_name() == "sqlite" and path and path != ":memory:":
            self._engine = sync_sqlite_engine(path)
            self._sessions = sessionmaker(self._engine, expire_on_commit=False)
        # Reads on Postgres run without BEGIN/ROLLBACK (two round trips fewer). Under READ COMMITTED a
        # transaction gives each statement its own snapshot anyway, so the reads see the same data.
        self._async_reads = async_sessionmaker(db.engine.execution_options(isolation_level="AUTOCOMMIT"),
                                               expire_on_commit=False) if db.is_postgres else db.sessions

    async def read(self, fn: Callable[[Session], T]) -> T:
        if self._sessions is None:
            async with self._async_reads() as s:
                return await s.run_sync(fn)
        return await anyio.to_thread.run_sync(self._read, fn)

    async def write(self, fn: Callable[[Session], T]) -> T:
        if self._sessions is None:
            async with self.db.transaction() as s:
                return await s.run_sync(fn)
        return await anyio.to_thread.run_sync(self._write, fn)

    def _read(self, fn: Callable[[Session], T]) -> T:
        assert self._sessions is not None
        with self._sessions() as s:
            return fn(s)

    def _write(self, fn: Callable[[Session], T]) -> T:
        assert self._sessions is not None
        with self._sessions() as s, s.begin():
            s.connection(execution_options={"sqlite_write": True})
            return fn(s)

    def close(self) -> None:
        if self._engine is not None:
            self._engine.dispose()


def sync_sqlite_engine(path: str, *, pool_size: int = 8) -> Engine:
    """A synchronous engine on the SQLite file at ``path``; ``execution_options(sqlite_write=True)`` on a
    connection makes its transactions take the write lock up front."""
    # A file URL: SQLAlchemy then pools connections in a QueuePool that any worker thread may use.
    engine = create_engine(f"sqlite:///{path}", creator=lambda: sqlite_connect(path), pool_size=pool_size,
                           max_overflow=32)

    @event.listens_for(engine, "connect")
    def _pragmas(dbapi_conn, _record):  # type: ignore[no-untyped-def]
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute("PRAGMA synchronous=NORMAL")
        cur.execute("PRAGMA busy_timeout=30000")
        cur.close()

    @event.listens_for(engine, "begin")
    def _begin(conn):  # type: ignore[no-untyped-def]
        # Autocommit driver (isolation_level=None): transactions are ours. A writer takes the write lock
        # at BEGIN, so it never fails to upgrade a read lock half-way (SQLITE_BUSY without waiting).
        conn.exec_driver_sql("BEGIN IMMEDIATE" if conn.get_execution_options().get("sqlite_write") else "BEGIN")

    return engine


__all__ = ["Units", "sync_sqlite_engine"]
