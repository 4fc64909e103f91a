"""One server per data directory: an exclusive, non-blocking ``flock`` on ``<LETTA_DIR>/agenthost.lock``.

``agenthost serve`` on SQLite takes it before anything else (before the port, the database, any recovery).
The file holds the owner's pid, so a second process can say who holds it. The kernel releases the lock
when the owner exits, however it exits (no stale-lock clean-up); a leftover file with a dead pid is
simply taken over. The descriptor is not inherited by child processes (sandboxes, MCP servers).

    DataDirError
    ├── DataDirLocked      another live process holds the lock (``pid`` when it could be read)
    └── DataDirUnusable    the directory cannot be created, or the lock file cannot be opened
"""

from __future__ import annotations

import fcntl
import os
from pathlib import Path

LOCK_NAME = "agenthost.lock"


class DataDirError(Exception):
    """The data directory cannot be used by this process."""


class DataDirLocked(DataDirError):
    def __init__(self, home: Path, pid: int | None) -> None:
        self.home, self.pid = home, pid
        holder = f"process {pid}" if pid else "another process"
        super().__init__(f"the data directory {home} is in use by {holder} (another agenthost serve); "
                         f"stop it, or give this one another LETTA_DIR")


class DataDirUnusable(DataDirError):
    def __init__(self, home: Path, reason: str) -> None:
        self.home, self.reason = home, reason
        super().__init__(f"cannot use the data directory {home}: {reason}")


class DataDirLock:
    """Hold the lock for as long as the object lives (or until ``release``)."""

    def __init__(self, home: Path) -> None:
        self.home = home
        self.path = home / LOCK_NAME
        self._fd: int | None = None

    def acquire(self) -> DataDirLock:
        """Take the lock now or raise ``DataDirLocked`` / ``DataDirUnusable``; never waits."""
        try:
            self.home.mkdir(parents=True, exist_ok=True)
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        except OSError as exc:
            raise DataDirUnusable(self.home, exc.strerror or str(exc)) from None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            pid = _read_pid(fd)
            os.close(fd)
            raise DataDirLocked(self.home, pid) from None
        except OSError as exc:
            os.close(fd)
            raise DataDirUnusable(self.home, f"cannot lock {self.path}: {exc.strerror}") from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        self._fd = fd
        return self

    def release(self) -> None:
        if self._fd is not None:
            fd, self._fd = self._fd, None
            os.close(fd)  # closing the last descriptor drops the flock

    @property
    def held(self) -> bool:
        return self._fd is not None

    def __enter__(self) -> DataDirLock:
        return self.acquire()

    def __exit__(self, *exc: object) -> None:
        self.release()


def _read_pid(fd: int) -> int | None:
    try:
        raw = os.pread(fd, 32, 0).decode(errors="replace").strip()
        return int(raw) if raw else None
    except (OSError, ValueError):
        return None


__all__ = ["DataDirError", "DataDirLock", "DataDirLocked", "DataDirUnusable", "LOCK_NAME"]
