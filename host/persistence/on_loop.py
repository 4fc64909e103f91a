"""The event loop's own SQLite connections: units and single statements run on the loop's thread, never waiting.

    done, value = here.unit(fn, write=True)   # (False, None): nothing was done; run it in a worker thread
    done, value = here.peek(fn)                # one read statement, no transaction

A unit on a SQLite file is microseconds of SQLite's work and a few hundred of SQLAlchemy's. Sent to a worker
thread (``host.persistence.units``), it also paid the hop there and back and, under load, the interpreter lock
passed back and forth: the worker waited for the lock the loop held, then the loop for the worker's. With ten
agents' turns in flight (three units a turn) that was about half of the server's CPU per message (measured,
alternated: 10.4 / 9.9 -> 7.4 / 5.4 ms a message, 118 / 139 -> 174 / 281 messages/s; ``bench/bench_speed.py``).

So a unit runs here, on a connection that never waits (``busy_timeout`` 0), whenever that cannot block:

- a write, when no unit of this process is writing (``write_lock``, which the worker threads' writers hold) and
  no other connection holds SQLite's write lock: ``BEGIN IMMEDIATE`` takes it at once or fails (SQLITE_BUSY)
  before the unit has done anything, and then the unit runs in a worker thread, which waits;
- a read: a WAL reader waits for nobody. Should the file be busy all the same (the log being reset, recovery),
  the read is run again in a worker thread (a read unit has no effect but its answer);
- only on the thread that opened these connections (the event loop's): from any other, units use threads.

Units whose statements may touch many rows (``bulk``: a cascade delete, a prune) still run in a worker
thread, where SQLite's work (done without the interpreter lock) lets the loop go on.

Two connections, because ``PRAGMA data_version`` moves only for commits of *other* connections: the one that
answers it (and ``peek``) never writes, so it sees this process's units as well as other processes.

Checkpoints: SQLite copies the write-ahead log into the database (with fsyncs) in the connection whose commit
takes the log past ``wal_autocheckpoint`` pages: here that would be the event loop. The unit connection has it
off; every ``CHECKPOINT_EVERY`` commits made here, ``checkpoint_due`` says so and the writer runs a passive
checkpoint (it waits for nobody) in a worker thread before it returns (``Units.write``).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any, TypeVar, cast

from sqlalchemy import Connection, Engine
from sqlalchemy.orm import Session, sessionmaker

from host.persistence.sqlite_sync import sync_sqlite_engine

T = TypeVar("T")

CHECKPOINT_EVERY = 200  # commits made here between passive checkpoints (a step writes a few pages)


class OnLoop:
    """The two connections: ``open_blocking`` connects them (in a worker thread: opening may wait for the file),
    ``adopt`` makes them the calling thread's."""

    def __init__(self, path: str, write_lock: threading.Lock) -> None:
        self._write_lock = write_lock
        self.thread: int | None = None  # the thread that opened them: the only one that uses them
        self.engine: Engine = sync_sqlite_engine(path, on_loop=True)  # the units'
        self.reader_engine: Engine = sync_sqlite_engine(path, on_loop=True)  # peeks and data_version
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)
        self._reader: Connection | None = None
        self.generation = 0  # which reader connection (a new one starts its own data_version count)
        self.commits = 0  # made here since the last checkpoint was due

    @property
    def is_open(self) -> bool:
        return self._reader is not None

    def mine(self) -> bool:
        """Whether this thread may use them: the one that opened them, or any before they are first opened."""
        return self.thread is None or self.thread == threading.get_ident()

    def open_blocking(self) -> Connection:
        """Connect both (run in a worker thread); ``adopt`` the reader on the loop's thread."""
        self.engine.connect().close()  # the units' connection, kept by its static pool
        conn = self.reader_engine.connect().execution_options(sqlite_autocommit=True)
        conn.rollback()
        return conn

    def adopt(self, reader: Connection) -> None:
        """Take ``reader`` (from ``open_blocking``), and both connections, as this thread's."""
        self._reader, self.thread = reader, threading.get_ident()
        self.generation += 1

    # ---- units ----------------------------------------------------------------------------------
    def unit(self, fn: Callable[[Session], T], *, write: bool) -> tuple[bool, T | None]:
        """``(True, fn(session))`` run here, committed if ``write``; ``(False, None)`` when it would have had to
        wait: nothing was done (an error of ``fn`` itself is raised, its transaction rolled back)."""
        if not write:
            return self._unit(fn, write=False)
        if not self._write_lock.acquire(blocking=False):
            return False, None
        try:
            done, value = self._unit(fn, write=True)
        finally:
            self._write_lock.release()
        if done:
            self.commits += 1
        return done, value

    def _unit(self, fn: Callable[[Session], T], *, write: bool) -> tuple[bool, T | None]:
        with self._sessions() as s:
            try:
                s.connection(execution_options={"sqlite_write": write})  # BEGIN [IMMEDIATE]: takes no time or fails
            except Exception as exc:
                if busy(exc):
                    return False, None
                raise
            try:
                value = fn(s)
                if write:
                    s.commit()
            except Exception as exc:
                if not write and busy(exc):  # a read is only its answer: run it again where it may wait
                    return False, None
                raise
            return True, value

    def checkpoint_due(self) -> bool:
        if self.commits < CHECKPOINT_EVERY:
            return False
        self.commits = 0
        return True

    # ---- single statements ------------------------------------------------------------------------
    def peek(self, fn: Callable[[Connection], T]) -> tuple[bool, T | None]:
        """``(True, fn(conn))`` on the reader, or ``(False, None)`` when the file was busy."""
        conn = self._reader
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
                self._reader = None
                conn.invalidate()
            if busy(exc):
                return False, None
            raise

    def data_version(self) -> tuple[int, int] | None:
        done, version = self.peek(_data_version)
        return (self.generation, version) if done and version is not None else None

    def close(self) -> None:
        if self._reader is not None:
            self._reader.close()
            self._reader = None
        self.engine.dispose()
        self.reader_engine.dispose()


def _data_version(conn: Connection) -> int:
    raw = cast(Any, conn.connection.driver_connection)  # the DB-API connection (sqlean): no SQLAlchemy on the way
    return int(raw.execute("PRAGMA data_version").fetchone()[0])


def busy(exc: BaseException) -> bool:
    """SQLite's "database is locked" / "database is busy" (SQLITE_BUSY), wrapped by SQLAlchemy or not (sqlean's
    exceptions are not sqlite3's, so SQLAlchemy may leave them as they are)."""
    orig = getattr(exc, "orig", None) or exc
    return type(orig).__name__ == "OperationalError" and any(
        word in str(orig) for word in ("database is locked", "database is busy"))


__all__ = ["CHECKPOINT_EVERY", "OnLoop", "busy"]
