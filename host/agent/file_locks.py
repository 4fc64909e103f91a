"""Locks by name across the processes that share one SQLite file: byte-range locks on one lock file.

``agenthost serve --workers N`` on SQLite runs N processes on one database file; one turn per agent at a
time must hold across them (on Postgres an advisory lock does this, ``host.agent.locks``). Each name locks one
byte of ``<data dir>/agent-turns.lock``, at an offset taken from a 62-bit hash of the name, with a Linux
*open file description* lock (``F_OFD_SETLK``):

- it belongs to the open file (this process's one descriptor), not to the process, so two turns of one
  process on different agents never release each other's locks (POSIX ``F_SETLK`` locks would: closing any
  descriptor of the file drops them all);
- the kernel drops it with the descriptor, so also when the process dies however it dies (``kill -9`` of a
  worker frees its agents at once; there is nothing stale to clean up);
- the descriptor is not inherited by child processes (sandboxes, MCP servers): a child cannot outlive it.

Taking a lock never blocks the event loop: a non-blocking attempt, then polling with a short, growing
backoff (a waiter is cancellable at every sleep). Within one process the caller serialises turns first with
an in-process lock, so a byte is only ever contended by other processes.

Two names whose hashes collide share one byte: they then exclude each other (never the reverse), a chance
of about one in 2**62 per pair.
"""

from __future__ import annotations

import errno
import fcntl
import hashlib
import os
import struct
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import anyio

LOCK_NAME = "agent-turns.lock"
FIRST_WAIT_S = 0.001
LONGEST_WAIT_S = 0.02

# struct flock on Linux (x86-64 and arm64): short l_type, short l_whence, off_t l_start, off_t l_len,
# pid_t l_pid (0 for OFD locks), padded to 32 bytes.
_FLOCK = struct.Struct("@hhqqi4x")
_BUSY = (errno.EAGAIN, errno.EACCES)


def offset_of(name: str) -> int:
    """Where ``name``'s byte is: a 62-bit hash (an ``off_t`` is signed 64-bit; start + length must fit)."""
    return int.from_bytes(hashlib.blake2b(name.encode(), digest_size=8).digest(), "big") >> 2


class FileLocks:
    """Exclusive locks by name, shared with every process that opens the same file."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._fd: int | None = None

    def _file(self) -> int:
        if self._fd is None:
            # O_CLOEXEC (Python's default): children never share this open file description.
            self._fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
        return self._fd

    def try_lock(self, name: str) -> bool:
        """Take ``name``'s lock now if no other process holds it."""
        try:
            fcntl.fcntl(self._file(), fcntl.F_OFD_SETLK, _FLOCK.pack(fcntl.F_WRLCK, os.SEEK_SET, offset_of(name), 1, 0))
        except OSError as exc:
            if exc.errno in _BUSY:
                return False
            raise
        return True

    def unlock(self, name: str) -> None:
        fcntl.fcntl(self._file(), fcntl.F_OFD_SETLK, _FLOCK.pack(fcntl.F_UNLCK, os.SEEK_SET, offset_of(name), 1, 0))

    @asynccontextmanager
    async def hold(self, name: str) -> AsyncIterator[None]:
        """Wait (cancellably, never blocking the event loop) for ``name``'s lock; release it however the block
        ends."""
        wait = FIRST_WAIT_S
        while not self.try_lock(name):
            await anyio.sleep(wait)
            wait = min(wait * 2, LONGEST_WAIT_S)
        try:
            yield
        finally:
            self.unlock(name)

    def close(self) -> None:
        if self._fd is not None:
            fd, self._fd = self._fd, None
            os.close(fd)  # drops every lock this process still holds on the file


__all__ = ["FileLocks", "LOCK_NAME", "offset_of"]
