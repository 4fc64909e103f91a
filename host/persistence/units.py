"""Units of work for the hot paths: one synchronous function ``fn(session) -> T``, run as a whole.

    loaded = await units.read(lambda s: load(s, agent_id))
    await units.write(lambda s: write(s, step))          # one transaction: committed, or rolled back

Why: through aiosqlite every statement costs several hops between the event loop and the connection's
thread (about 0.1 ms each), so a five-statement transaction cost about 6 ms, nearly all of it hops; the
same statements take microseconds on a synchronous connection. So on SQLite a unit runs whole, on a
synchronous connection to the same file (WAL lets it share the file with the async engine; writers take
the write lock up front with ``BEGIN IMMEDIATE``): on the event loop's own connection whenever it need not
wait for anything (``host.persistence.on_loop``: no hop at all), else in one worker thread, which waits.
The units of one process write one at a time, queued on a lock of the process: SQLite's own wait for its write
lock (``busy_timeout``) sleeps and polls, 1, 2, 5, 10 ms and more, and each waiting writer held a pooled
connection meanwhile (overflow connections opened and closed again, each loading sqlite-vec). With ten agents'
turns in flight that cost about a sixth of the throughput (measured: ~75 -> ~89 messages/s) and a new
connection every four turns or so. Writers of other processes (workers on one file) still meet through
``busy_timeout``. On Postgres a unit runs on an ordinary async session through SQLAlchemy's greenlet bridge
(asyncpg has no synchronous API, and its round trips are cheap); reads there run in autocommit.

An in-memory SQLite database cannot be opened twice: there, units run on the async engine too.
"""

from __future__ import annotations

import threading
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from contextvars import ContextVar
from typing import TypeVar, cast

import anyio
from sqlalchemy import Connection, Engine
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession, async_sessionmaker
from sqlalchemy.orm import Session, sessionmaker

from host.persistence.db import Database, sqlite_file
from host.persistence.on_loop import OnLoop
from host.persistence.sqlite_sync import sync_sqlite_engine

T = TypeVar("T")


class Units:
    def __init__(self, db: Database) -> None:
        self.db = db
        self._engine: Engine | None = None
        self._sessions: sessionmaker[Session] | None = None
        self._write_lock = threading.Lock()
        self._on_loop: OnLoop | None = None  # the event loop's own connections (``host.persistence.on_loop``)
        self._opening = anyio.Lock()
        if path := sqlite_file(db.engine):
            self._engine = sync_sqlite_engine(path)
            self._sessions = sessionmaker(self._engine, expire_on_commit=False)
            self._on_loop = OnLoop(path, self._write_lock)
        # Reads on Postgres run without BEGIN/ROLLBACK (two round trips fewer). Under READ COMMITTED a
        # transaction gives each statement its own snapshot anyway, so the reads see the same data.
        self._read_engine = db.engine.execution_options(isolation_level="AUTOCOMMIT") if db.is_postgres else db.engine
        self._async_reads = async_sessionmaker(self._read_engine, expire_on_commit=False) if db.is_postgres \
            else db.sessions

    async def read(self, fn: Callable[[Session], T], *, bulk: bool = False) -> T:
        if self._sessions is not None:
            if not bulk and (here := await self._here()) is not None:
                done, value = here.unit(fn, write=False)
                if done:
                    return cast(T, value)
            return await anyio.to_thread.run_sync(self._read, fn)
        conn = await _pinned_connection("AUTOCOMMIT")
        if conn is not None:
            async with AsyncSession(bind=conn, expire_on_commit=False) as s:
                return await s.run_sync(fn)
        async with self._async_reads() as s:
            return await s.run_sync(fn)

    async def peek(self, fn: Callable[[Connection], T]) -> T:
        """Run ``fn(connection)``, one read statement (atomic by itself), on a bare connection: no session and no
        transaction around it (on SQLite no BEGIN and ROLLBACK either).

        On SQLite the statement runs right here, on the event loop's thread (``host.persistence.on_loop``);
        should the file be busy (a checkpoint restarting the log, recovery), in a worker thread instead, where
        it may wait."""
        if self._engine is not None:
            if (here := await self._here()) is not None:
                done, value = here.peek(fn)
                if done:
                    return cast(T, value)
            return await anyio.to_thread.run_sync(self._peek, fn)
        conn = await _pinned_connection("AUTOCOMMIT")
        if conn is not None:
            return await conn.run_sync(fn)
        async with self._read_engine.connect() as conn:
            return await conn.run_sync(fn)

    async def write(self, fn: Callable[[Session], T], *, bulk: bool = False) -> T:
        if self._sessions is not None:
            if not bulk and (here := await self._here()) is not None:
                done, value = here.unit(fn, write=True)
                if done:
                    if here.checkpoint_due():
                        with anyio.CancelScope(shield=True):  # committed: the caller hears so, whatever comes
                            await anyio.to_thread.run_sync(self._checkpoint)
                    return cast(T, value)
            return await anyio.to_thread.run_sync(self._write, fn)
        conn = await _pinned_connection("READ COMMITTED")
        if conn is not None:
            async with AsyncSession(bind=conn, expire_on_commit=False) as s, s.begin():
                return await s.run_sync(fn)
        async with self.db.transaction() as s:
            return await s.run_sync(fn)

    async def write_one(self, fn: Callable[[Session], T]) -> T:
        if self.db.is_postgres:
            return await self.read(fn)  # in autocommit: the statement is its own transaction
        return await self.write(fn)  # SQLite: a transaction costs no round trips

    async def data_version(self) -> tuple[int, int] | None:
        """SQLite: a stamp that moves whenever any other connection (of this process or another) commits to the
        file: ``PRAGMA data_version`` on the event loop's reader, which never writes, with which connection it
        was (a new one starts its own count). None on Postgres, off the loop's thread, or when the file is busy."""
        here = await self._here()
        return here.data_version() if here is not None else None

    async def _here(self) -> OnLoop | None:
        """The event loop's connections, opened on first use; None on Postgres, an in-memory database, or a thread
        other than the one that opened them."""
        here = self._on_loop
        if here is None or not here.mine():
            return None
        if not here.is_open:
            async with self._opening:  # once, whoever comes first
                if not here.is_open:  # opened in a worker thread: connecting may wait for the file
                    here.adopt(await anyio.to_thread.run_sync(here.open_blocking))
        return here

    def _read(self, fn: Callable[[Session], T]) -> T:
        assert self._sessions is not None
        with self._sessions() as s:
            return fn(s)

    def _peek(self, fn: Callable[[Connection], T]) -> T:
        assert self._engine is not None
        with self._engine.connect().execution_options(sqlite_autocommit=True) as conn:
            return fn(conn)

    def _write(self, fn: Callable[[Session], T]) -> T:
        assert self._sessions is not None
        with self._write_lock, self._sessions() as s, s.begin():
            s.connection(execution_options={"sqlite_write": True})
            return fn(s)

    def _checkpoint(self) -> None:
        """A passive checkpoint: as much of the log as no reader still needs, waiting for nobody."""
        self._peek(lambda conn: conn.exec_driver_sql("PRAGMA wal_checkpoint(PASSIVE)"))

    def engines(self) -> list[Engine]:
        """The synchronous engines of its own the units run on (SQLite file): the worker threads' pool and the
        event loop's connections."""
        if self._engine is None or self._on_loop is None:  # (set together: a SQLite file)
            return []
        return [self._engine, self._on_loop.engine, self._on_loop.reader_engine]

    def close(self) -> None:
        if self._on_loop is not None:
            self._on_loop.close()
        if self._engine is not None:
            self._engine.dispose()


# The connection this task's units run on until `pinned` ends, with the task that pinned it.
_PINNED: ContextVar[tuple[AsyncConnection, int] | None] = ContextVar("agenthost_pinned_connection", default=None)


@asynccontextmanager
async def pinned(conn: AsyncConnection) -> AsyncIterator[None]:
    """Run the current task's units on ``conn`` (Postgres) until the block ends.

    A turn holds its agent's advisory lock on a connection of its own for the whole turn; its reads and
    writes reuse that connection instead of checking out (and pinging) another one per unit. Tasks
    started inside the block inherit the context but not the connection: one asyncpg connection serves
    one task at a time."""
    token = _PINNED.set((conn, anyio.get_current_task().id))
    try:
        yield
    finally:
        _PINNED.reset(token)


async def _pinned_connection(isolation: str) -> AsyncConnection | None:
    pin = _PINNED.get()
    if pin is None or pin[1] != anyio.get_current_task().id:
        return None
    conn = pin[0]
    # End SQLAlchemy's bookkeeping of the last unit (no transaction is open on the server between units:
    # reads run in autocommit, writes commit), so that the isolation level may change.
    await conn.rollback()
    # asyncpg keeps the isolation level on the client side: switching it costs no round trip.
    return await conn.execution_options(isolation_level=isolation)


__all__ = ["Units", "pinned"]
