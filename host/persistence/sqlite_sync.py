"""Synchronous engines on a SQLite file: the worker threads' pool, and the event loop's own connections.

    engine = sync_sqlite_engine(path)                # a pool any worker thread may use; waits for locks
    engine = sync_sqlite_engine(path, on_loop=True)  # one connection that never waits and never checkpoints

``execution_options(sqlite_write=True)`` on a connection makes its transactions take the write lock up front
(``BEGIN IMMEDIATE``); ``sqlite_autocommit=True`` runs its statements with no BEGIN at all.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.pool import StaticPool

from host.persistence.db import sqlite_connect


def sync_sqlite_engine(path: str, *, pool_size: int = 8, on_loop: bool = False) -> Engine:
    """An engine on the SQLite file at ``path``. ``on_loop``: a static pool of one connection for the event
    loop's thread (``host.persistence.on_loop``), which gives up at once on a lock (``busy_timeout`` 0) and
    leaves checkpoints to others (``wal_autocheckpoint`` 0); otherwise a pool that any worker thread may use (a
    file URL: a QueuePool), whose connections wait up to 30 s for a lock."""
    pool: dict[str, Any] = {"poolclass": StaticPool} if on_loop else {"pool_size": pool_size, "max_overflow": 32}
    engine = create_engine(f"sqlite:///{path}", creator=lambda: sqlite_connect(path), **pool)
    pragmas = ("PRAGMA foreign_keys=ON", "PRAGMA synchronous=NORMAL",
               *(("PRAGMA busy_timeout=0", "PRAGMA wal_autocheckpoint=0") if on_loop else ("PRAGMA busy_timeout=30000",)))

    @event.listens_for(engine, "connect")
    def _pragmas(dbapi_conn, _record):
        cur = dbapi_conn.cursor()
        for pragma in pragmas:
            cur.execute(pragma)
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


__all__ = ["sync_sqlite_engine"]
