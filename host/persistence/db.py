"""The database: an async engine on SQLite (embedded default) or Postgres + pgvector, migrated at start.

SQLite connections are opened through ``sqlean`` so that the ``sqlite-vec`` extension can be loaded
(this Python's own ``sqlite3`` cannot load extensions). A database already at ``HEAD_REVISION`` is
recognised with one query; Alembic (about 70 ms to import) is loaded only when there is something to apply.
"""

from __future__ import annotations

import logging
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, TypedDict, TypeVar, Unpack

import anyio
from sqlalchemy import Connection, Engine, event, inspect, text
from sqlalchemy.exc import DisconnectionError, IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine
from sqlalchemy.orm import Session

if TYPE_CHECKING:
    import sqlite3

    from host.persistence.units import Units

T = TypeVar("T")

logger = logging.getLogger(__name__)

_MIGRATIONS = Path(__file__).parent / "migrations"
_PG_MIGRATION_LOCK = 7_223_114_001
PING_AFTER_IDLE_S = 1.0  # a pooled Postgres connection idle for longer is checked before use
# A Postgres session left idle inside a transaction for longer is ended by the server, which releases its
# locks: our transactions never wait on anything but the database, so one idle that long belongs to a
# process that stalled (SIGSTOP, a paused VM, a wedged event loop) and would otherwise block every
# other process that needs the rows it locked (a sweeper claiming its runs, for one).
IDLE_IN_TRANSACTION_S = 60.0
HEAD_REVISION = "0014"  # the newest revision in migrations/versions (a test keeps the two in step)


@dataclass(frozen=True)
class Database:
    """The engine and its sessions. ``is_postgres`` is about SQL (dialect, pools, round trips); ``shared`` is
    about who else writes: other server processes may use this database at the same time (Postgres always;
    a SQLite file when ``serve`` runs several workers on it, ``workers_share_file``). Where this process
    alone uses the database it may treat whatever another process left behind as abandoned."""

    engine: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]
    workers_share_file: bool = False

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    @property
    def is_postgres(self) -> bool:
        return self.dialect == "postgresql"

    @property
    def shared(self) -> bool:
        return self.is_postgres or self.workers_share_file

    @asynccontextmanager
    async def session(self) -> AsyncIterator[AsyncSession]:
        async with self.sessions() as session:
            yield session

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[AsyncSession]:
        """One session, one transaction: commit on success, roll back on any error."""
        async with self.sessions() as session, session.begin():
            yield session

    async def serialize(self, session: AsyncSession, name: str) -> None:
        """Hold a lock named ``name`` until ``session``'s transaction ends, so that a read-then-insert by name
        (the built-in tools at start-up, a tool registered by name) cannot race another process's and fail on
        the unique index. On Postgres a transaction-level advisory lock; SQLite has one writer already."""
        if self.is_postgres:
            await session.execute(text("SELECT pg_advisory_xact_lock(hashtext(:n))"), {"n": name})

    @cached_property
    def units(self) -> Units:
        from host.persistence.units import Units

        return Units(self)

    async def read(self, fn: Callable[[Session], T], *, bulk: bool = False) -> T:
        """Run ``fn(session)``, a synchronous unit of reads (see ``host.persistence.units``). ``bulk``: its
        statements may touch many rows (on SQLite it then runs in a worker thread, ``host.persistence.on_loop``)."""
        return await self.units.read(fn, bulk=bulk)

    async def peek(self, fn: Callable[[Connection], T]) -> T:
        """Run ``fn(connection)``, one read statement, on a bare connection (no session, no transaction)."""
        return await self.units.peek(fn)

    async def write(self, fn: Callable[[Session], T], *, bulk: bool = False) -> T:
        """Run ``fn(session)`` in one transaction: committed when it returns, rolled back if it raises. ``bulk``
        as for ``read``."""
        return await self.units.write(fn, bulk=bulk)

    async def write_one(self, fn: Callable[[Session], T]) -> T:
        """Run ``fn(session)``, which changes data in one statement (atomic by itself): on Postgres without
        a transaction around it, two round trips fewer than ``write``."""
        return await self.units.write_one(fn)

    async def data_version(self) -> tuple[int, int] | None:
        """SQLite: a stamp that moves whenever the file changes (any commit by any other connection or process);
        None on Postgres (see ``host.services.answer_cache``)."""
        return await self.units.data_version()

    def engines(self) -> list[Engine]:
        """Every engine this database runs statements on (for listeners that must see them all): the async
        engine's, and on a SQLite file the synchronous engine the units run on."""
        return [self.engine.sync_engine, *self.units.engines()]

    def close(self) -> None:
        if "units" in self.__dict__:
            self.units.close()


def sqlite_connect(path: str):
    """A DB-API connection to the SQLite file at ``path`` with sqlite-vec loaded (autocommit mode:
    transactions are begun explicitly)."""
    import sqlean
    import sqlite_vec

    connect: Callable[..., sqlite3.Connection] = getattr(sqlean, "connect")  # noqa: B009 - a C module without stubs
    conn = connect(path, check_same_thread=False, isolation_level=None)
    conn.enable_load_extension(True)
    sqlite_vec.load(conn)
    conn.enable_load_extension(False)
    return conn


def _sqlite_connector(path: str):
    import aiosqlite

    async def creator():
        return await aiosqlite.Connection(lambda: sqlite_connect(path), iter_chunk_size=64)

    return creator


def sqlite_file(engine: AsyncEngine) -> str | None:
    """The path of the engine's SQLite file; None for Postgres or an in-memory SQLite database (which a
    second connection pool would not see)."""
    path = engine.url.database or ""
    return path if engine.dialect.name == "sqlite" and path and path != ":memory:" else None


def create_engine(url: str, *, pool_size: int = 20, max_overflow: int = 30, pool_timeout: int = 30,
                  pool_recycle: int = 1800, ping_after_idle_s: float = PING_AFTER_IDLE_S,
                  idle_in_transaction_s: float = IDLE_IN_TRANSACTION_S) -> AsyncEngine:
    if url.startswith("sqlite"):
        path = url.split(":///", 1)[1]
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        engine = create_async_engine(url, async_creator=_sqlite_connector(path))

        @event.listens_for(engine.sync_engine, "connect")
        def _pragmas(dbapi_conn, _record):
            cur = dbapi_conn.cursor()
            # The timeout first: switching to WAL takes a lock that workers starting together contend for.
            cur.execute("PRAGMA busy_timeout=30000")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.close()

        @event.listens_for(engine.sync_engine, "begin")
        def _begin(conn):
            # pysqlite's implicit transactions are off (isolation_level=None); start them ourselves.
            conn.exec_driver_sql("BEGIN IMMEDIATE")

        @event.listens_for(engine.sync_engine, "handle_error")
        def _wrap_integrity_error(ctx):
            # sqlean's exceptions are not sqlite3's, so the aiosqlite dialect leaves them unwrapped; a unique
            # or foreign-key violation must still be SQLAlchemy's IntegrityError (services catch that one).
            orig = ctx.original_exception
            if ctx.sqlalchemy_exception is None and type(orig).__name__ == "IntegrityError":
                return IntegrityError(ctx.statement, ctx.parameters, orig)
            return None

        return engine
    settings = {"idle_in_transaction_session_timeout": str(max(1, round(idle_in_transaction_s * 1000)))}
    engine = create_async_engine(url, pool_size=pool_size, max_overflow=max_overflow, pool_timeout=pool_timeout,
                                 pool_recycle=pool_recycle, connect_args={"server_settings": settings})
    _ping_when_idle(engine, ping_after_idle_s)
    return engine


def _ping_when_idle(engine: AsyncEngine, idle_s: float) -> None:
    """Check a pooled connection before handing it out if it sat idle for over ``idle_s`` seconds.

    SQLAlchemy's ``pool_pre_ping`` pings on every checkout, which through asyncpg is three round trips
    (BEGIN, an empty query, ROLLBACK): a turn checks out twice. A connection used a moment ago is alive
    (HikariCP skips validation the same way, within its ``aliveBypassWindowMs``); if one is not after all,
    SQLAlchemy recognises the disconnect on use and invalidates the pool."""

    @event.listens_for(engine.sync_engine, "checkin")
    def _checked_in(_dbapi_conn, record):
        record.info["agenthost_idle_since"] = time.monotonic()

    @event.listens_for(engine.sync_engine, "checkout")
    def _checked_out(dbapi_conn, record, _proxy):
        since = record.info.get("agenthost_idle_since")
        if since is None or time.monotonic() - since <= idle_s:
            return  # new, or used a moment ago
        try:
            dbapi_conn.ping()
        except Exception as exc:
            # The pool discards this connection and hands out another (or connects anew).
            raise DisconnectionError(f"pooled connection failed its check: {exc}") from exc


def _run_alembic(sync_conn) -> None:
    from alembic import command
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(_MIGRATIONS))
    cfg.attributes["connection"] = sync_conn
    command.upgrade(cfg, "head")


def _state(sync_conn: Connection) -> str:
    """``head`` (nothing to do), ``empty`` (no tables: create from the fresh script), or ``behind``."""
    found = inspect(sync_conn)
    if not found.has_table("alembic_version"):
        return "behind" if found.has_table("agents") else "empty"
    at = list(sync_conn.execute(text("SELECT version_num FROM alembic_version")).scalars())
    return "head" if at == [HEAD_REVISION] else "behind"


def _migrate_sqlite_file(path: str) -> None:
    from host.persistence.fresh import statements
    from host.persistence.sqlite_sync import sync_sqlite_engine

    engine = sync_sqlite_engine(path, pool_size=1)
    try:
        with engine.connect() as conn:
            conn = conn.execution_options(sqlite_write=True)
            # A migration that rebuilds a table (SQLite cannot drop an inline UNIQUE; 0013) drops the old one:
            # with foreign keys on, that would cascade to the rows referencing it. Off (only possible outside a
            # transaction) for the migration; the result is checked before it commits.
            raw = conn.connection.dbapi_connection
            assert raw is not None
            raw.execute("PRAGMA foreign_keys=OFF")
            try:
                with conn.begin():
                    state = _state(conn)  # again, now holding the write lock: another process may have been first
                    if state == "empty":
                        for statement in statements("sqlite"):
                            conn.exec_driver_sql(statement)
                    elif state == "behind":
                        _run_alembic(conn)
                        broken = conn.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
                        if broken:
                            raise RuntimeError(f"migrating {path} left rows with dangling references: {broken[:5]}")
            finally:
                raw.execute("PRAGMA foreign_keys=ON")
    finally:
        engine.dispose()


async def migrate(engine: AsyncEngine) -> None:
    """Bring the database to the newest revision: nothing to do at head; an empty database is created from
    the rendered script (``host.persistence.fresh``); anything older is upgraded by Alembic. On Postgres an
    advisory lock keeps concurrent workers from racing."""
    async with engine.connect() as conn:
        if await conn.run_sync(_state) == "head":
            return
    if path := sqlite_file(engine):
        # On a synchronous connection in one worker thread: through aiosqlite every DDL statement costs
        # thread hops (a fresh database took about 190 ms to create that way).
        await anyio.to_thread.run_sync(_migrate_sqlite_file, path)
        return
    async with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            await conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _PG_MIGRATION_LOCK})
            await conn.execute(text("CREATE EXTENSION IF NOT EXISTS vector"))
        state = await conn.run_sync(_state)  # again, under the lock: another worker may have been first
        if state == "empty" and engine.dialect.name == "postgresql":
            from host.persistence.fresh import statements

            for statement in statements("postgresql"):
                await conn.exec_driver_sql(statement)
        elif state != "head":
            await conn.run_sync(_run_alembic)


class PoolOptions(TypedDict, total=False):
    """``create_engine``'s pool settings, passed through ``open_database``."""

    pool_size: int
    max_overflow: int
    pool_timeout: int
    pool_recycle: int
    ping_after_idle_s: float
    idle_in_transaction_s: float


@asynccontextmanager
async def open_database(url: str, *, run_migrations: bool = True, workers_share_file: bool = False,
                        **pool: Unpack[PoolOptions]) -> AsyncIterator[Database]:
    import host.persistence.tenancy  # noqa: F401 - registers the organization scoping of every ORM session

    engine = create_engine(url, **pool)
    try:
        if run_migrations:
            await migrate(engine)
        db = Database(engine=engine, sessions=async_sessionmaker(engine, expire_on_commit=False),
                      workers_share_file=workers_share_file and sqlite_file(engine) is not None)
        try:
            yield db
        finally:
            db.close()
    finally:
        await engine.dispose()
