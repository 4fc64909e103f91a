"""Ids in Letta's format: ``<prefix>-<uuid4>``, and the constant default user and organisation."""

from __future__ import annotations

import os
import threading
import uuid
from datetime import UTC, datetime

DEFAULT_USER_ID = "user-00000000-0000-4000-8000-000000000000"
DEFAULT_ORG_ID = "org-00000000-0000-4000-8000-000000000000"

# ``uuid.uuid4()`` reads 16 bytes with ``os.urandom``, which lets go of the interpreter lock for its system call.
# On the event loop's thread that is a wait of up to the switch interval (5 ms) to get the lock back whenever a
# worker thread (a database unit) is running Python meanwhile; a turn makes several ids. The same kernel
# randomness read 4 KB at a time, per thread, makes that one call in 256.
_CHUNK = 4096


class _Entropy(threading.local):
    def __init__(self) -> None:
        self.buf = b""
        self.pos = 0
        self.generation = -1


_entropy = _Entropy()
_generation = 0  # moves in a forked child, so that it never hands out what its parent had read


def _forked() -> None:
    global _generation
    _generation += 1


os.register_at_fork(after_in_child=_forked)


def random_uuid() -> uuid.UUID:
    """``uuid.uuid4()``, from the same source (``os.urandom``), read ahead."""
    e = _entropy
    if e.pos + 16 > len(e.buf) or e.generation != _generation:
        e.buf, e.pos, e.generation = os.urandom(_CHUNK), 0, _generation
    start = e.pos
    e.pos = start + 16
    return uuid.UUID(bytes=e.buf[start:start + 16], version=4)


def new_id(prefix: str) -> str:
    return f"{prefix}-{random_uuid()}"


def utcnow() -> datetime:
    """Naive UTC, second precision kept by the database; Letta serialises timestamps without offset."""
    return datetime.now(UTC).replace(tzinfo=None)
