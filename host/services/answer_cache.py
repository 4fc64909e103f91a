"""Read answers given again while the database has not changed at all (SQLite's ``PRAGMA data_version``).

``Database.data_version()`` is a stamp that moves whenever any other connection commits to the SQLite file:
a write unit, the async engine, another worker process, ``agenthost mcp`` beside the server, a tool run
with ``sqlite3`` by hand. It is read on the connection the event loop keeps for reads (``Units.peek``),
which never writes, so every commit anywhere moves it. A read that took its stamp *before* it began and
finds the same stamp afterwards was answered from the database as it still is: its answer can be given
again, as is, to the same question (the same organization, the same parameters). A polling client (the
web UI's agent list) then costs a lookup here instead of a page query, the version keys of the page and
the join of its cached views.

Postgres has no such stamp (``data_version()`` is None there): every read reads.

Bounded: at most ``max_entries`` answers and ``max_items`` items across them (an item is usually a view the
view cache holds as well; the answers keep a reference, not a copy), least recently used out first.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Hashable, Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar

T = TypeVar("T")

Stamp = tuple[int, int]  # (which read connection, its data_version)


@dataclass(frozen=True)
class AnswerCacheStats:
    entries: int
    items: int
    hits: int
    misses: int


class AnswerCache(Generic[T]):
    def __init__(self, max_entries: int = 256, max_items: int = 4096) -> None:
        if max_entries < 1 or max_items < 1:
            raise ValueError(f"an answer cache needs room (got {max_entries} entries, {max_items} items)")
        self.max_entries = max_entries
        self.max_items = max_items
        self._answers: OrderedDict[Hashable, tuple[Stamp, tuple[T, ...]]] = OrderedDict()
        self._items = 0
        self._hits = self._misses = 0
        self._lock = threading.Lock()

    @property
    def stats(self) -> AnswerCacheStats:
        with self._lock:
            return AnswerCacheStats(entries=len(self._answers), items=self._items, hits=self._hits,
                                    misses=self._misses)

    def get(self, key: Hashable, stamp: Stamp | None) -> list[T] | None:
        """The answer stored for ``key`` at ``stamp``; None when there is none (or no stamp)."""
        if stamp is None:
            return None
        with self._lock:
            found = self._answers.get(key)
            if found is None or found[0] != stamp:
                self._misses += 1
                return None
            self._answers.move_to_end(key)
            self._hits += 1
            return list(found[1])

    def put(self, key: Hashable, stamp: Stamp | None, answer: Sequence[T]) -> None:
        """Store ``answer``, read after ``stamp`` was taken (nothing when there is no stamp, or when the answer
        alone is larger than the bound)."""
        if stamp is None or len(answer) > self.max_items:
            return
        with self._lock:
            old = self._answers.pop(key, None)
            if old is not None:
                self._items -= len(old[1])
            self._answers[key] = (stamp, tuple(answer))
            self._items += len(answer)
            while len(self._answers) > self.max_entries or self._items > self.max_items:
                _, (_, dropped) = self._answers.popitem(last=False)
                self._items -= len(dropped)


__all__ = ["AnswerCache", "AnswerCacheStats", "Stamp"]
