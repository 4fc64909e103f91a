"""Units of work for the hot paths: one synchronous function ``fn(session) -> T``, run as a whole.

    loaded = await units.read(lambda s: load(s, agent_id))
    await units.write(lambda s: write(s, step))          # one transaction: committed, or rolled back

Why: through aiosqlite every statement costs several hops between the event loop and the connection's
thread (about 0.1 ms each), so a five-statement transaction cost about 6 ms, nearly all of it hops; the
same statements take microseconds on a synchronous connection. So on SQLite a unit runs whole in one
worker thread, on a synchronous connection to the same file (WAL lets it share the file with the async
engine; writers take the write lock up front with ``BEGIN IMMEDIATE``). The units of one process write one
at a time, queued on a lock of the process: SQLite's own wait for its write lock (``busy_timeout``) sleeps
and polls, 1, 2, 5, 10 ms and more, and each waiting writer held a pooled connection meanwhile (overflow
connections opened and closed again, each loading sqlite-vec). With ten agents' turns in flight that cost
about a sixth of the throughput (measured: ~75 -> ~89 messages/s) and a new connection every four turns or
so. Writers of other processes (workers on one file) still meet through ``busy_timeout``. On Postgres a
unit runs on an ordinary async session through SQLAlchemy's greenlet bridge (asyncpg has no synchronous
API, and its round trips are cheap); reads there run in autocommit.

An in-memory SQLite database cannot be opened twice: there, units run on the async engine too.
"""

from __future__ import annotations

import threading
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from contextvars import ContextVar
from typing import Any, TypeVar, cast

import anyio
from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession, async_sessionmaker
from sqlalchemy.orm import Session, sessionmaker

from host.persistence.db import Database, sqlite_connect, sqlite_file

T = TypeVar("T")


class Units:
    def __init__(self, db: Database) -> None:
        self.db = db
        self._engine: Engine | None = None
        self._sessions: sessionmaker[Session] | None = None
        self._write_lock = threading.Lock()
        self._inline: Connection | None = None  # the event loop's own (``peek``)
        self._inline_generation = 0
        if path := sqlite_file(db.engine):
            self._engine = sync_sqlite_engine(path)
            self._sessions = sessionmaker(self._engine, expire_on_commit=False)
        # Reads on Postgres run without BEGIN/ROLLBACK (two round trips fewer). Under READ COMMITTED a
        # transaction gives each statement its own snapshot anyway, so the reads see the same data.
        self._read_engine = db.engine.execution_options(isolation_level="AUTOCOMMIT") if db.is_postgres else db.engine
        self._async_reads = async_sessionmaker(self._read_engine, expire_on_commit=False) if db.is_postgres \
            else db.sessions

    async def read(self, fn: Callable[[Session], T]) -> T:
        if self._sessions is not None:
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

        On SQLite the statement runs right here, on the event loop's thread, on a connection kept for it that
        never waits for a lock (``busy_timeout`` 0): a statement of a few hundred microseconds costs less
        than the hop to a worker thread and back (with the wait for the interpreter lock there). A WAL reader
        is not blocked by writers; should the file be busy all the same (a checkpoint restarting the log,
        recovery), the statement runs in a worker thread instead, where it may wait."""
        if self._engine is not None:
            await self._ensure_inline()
            done, value = self._peek_now(fn)
            if done:
                return cast(T, value)
            return await anyio.to_thread.run_sync(self._peek, fn)
        conn = await _pinned_connection("AUTOCOMMIT")
        if conn is not None:
            return await conn.run_sync(fn)
        async with self._read_engine.connect() as conn:
            return await conn.run_sync(fn)

    async def write(self, fn: Callable[[Session], T]) -> T:
        if self._sessions is not None:
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

    def _read(self, fn: Callable[[Session], T]) -> T:
        assert self._sessions is not None
        with self._sessions() as s:
            return fn(s)

    async def data_version(self) -> tuple[int, int] | None:
        """SQLite: a stamp that moves whenever any other connection (of this process or another) commits to the
        file: ``PRAGMA data_version`` on the event loop's read connection, which never writes, with which
        connection it was (a new one starts its own count). None on Postgres, or when the file is busy."""
        if self._engine is None:
            return None
        await self._ensure_inline()
        done, version = self._peek_now(_data_version)
        return (self._inline_generation, version) if done and version is not None else None

    async def _ensure_inline(self) -> None:
        if self._inline is None:  # opened in a worker thread: connecting may wait for the file
            conn = await anyio.to_thread.run_sync(self._open_inline)
            if self._inline is None:
                self._inline = conn
                self._inline_generation += 1
            else:  # another peek opened one meanwhile
                conn.close()

    def _open_inline(self) -> Connection:
        assert self._engine is not None
        conn = self._engine.connect().execution_options(sqlite_autocommit=True)
        conn.exec_driver_sql("PRAGMA busy_timeout=0")
        conn.rollback()
        return conn

    def _peek_now(self, fn: Callable[[Connection], T]) -> tuple[bool, T | None]:
        """``(True, fn(conn))`` on the loop's own connection, or ``(False, None)`` when the file was busy."""
        conn = self._inline
        if conn is None:  # dropped after an error: the next peek opens another
            return False, None
        try:
            value = fn(conn)
            conn.rollback()  # SQLAlchemy's bookkeeping only (no BEGIN was sent): no statement stays open
            return True, value
        except Exception as exc:
            try:
                conn.rollback()
            except Exception:  # the connection itself failed: the next statement gets a fresh one
                self._inline = None
                conn.invalidate()
            if _busy(exc):
                return False, None
            raise

    def _peek(self, fn: Callable[[Connection], T]) -> T:
        assert self._engine is not None
        with self._engine.connect().execution_options(sqlite_autocommit=True) as conn:
            return fn(conn)

    def _write(self, fn: Callable[[Session], T]) -> T:
        assert self._sessions is not None
        with self._write_lock, self._sessions() as s, s.begin():
            s.connection(execution_options={"sqlite_write": True})
            return fn(s)

    def engines(self) -> list[Engine]:
        """The synchronous engine of its own the units run on (SQLite file), if any."""
        return [self._engine] if self._engine is not None else []

    def close(self) -> None:
        if self._inline is not None:
            self._inline.close()
            self._inline = None
        if self._engine is not None:
            self._engine.dispose()


def _data_version(conn: Connection) -> int:
    raw = cast(Any, conn.connection.driver_connection)  # the DB-API connection (sqlean): no SQLAlchemy on the way
    return int(raw.execute("PRAGMA data_version").fetchone()[0])


def _busy(exc: BaseException) -> bool:
    """SQLite's "database is locked" / "database is busy" (SQLITE_BUSY), wrapped by SQLAlchemy or not (sqlean's
    exceptions are not sqlite3's, so SQLAlchemy may leave them as they are)."""
    orig = getattr(exc, "orig", None) or exc
    return type(orig).__name__ == "OperationalError" and any(
        word in str(orig) for word in ("database is locked", "database is busy"))


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


def sync_sqlite_engine(path: str, *, pool_size: int = 8) -> Engine:
    """A synchronous engine on the SQLite file at ``path``; ``execution_options(sqlite_write=True)`` on a
    connection makes its transactions take the write lock up front."""
    # A file URL: SQLAlchemy then pools connections in a QueuePool that any worker thread may use.
    engine = create_engine(f"sqlite:///{path}", creator=lambda: sqlite_connect(path), pool_size=pool_size,
                           max_overflow=32)

    @event.listens_for(engine, "connect")
    def _pragmas(dbapi_conn, _record):
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute("PRAGMA synchronous=NORMAL")
        cur.execute("PRAGMA busy_timeout=30000")
        cur.close()

    @event.listens_for(engine, "begin")
    def _begin(conn):
        # Autocommit driver (isolation_level=None): transactions are ours. A writer takes the write lock
        # at BEGIN, so it never fails to upgrade a read lock half-way (SQLITE_BUSY without waiting).
        # ``peek`` (one statement, atomic by itself) needs no BEGIN at all.
        options = conn.get_execution_options()
        if not options.get("sqlite_autocommit"):
            conn.exec_driver_sql("BEGIN IMMEDIATE" if options.get("sqlite_write") else "BEGIN")

    return engine


__all__ = ["Units", "pinned", "sync_sqlite_engine"]
