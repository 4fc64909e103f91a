"""Values by id, each valid at one version: the store behind the block and tool caches.

A version is a row's ``updated_at`` as the database stores it (compared, never parsed), read together with the id
by the caller. An entry answers only for the version it was built at, so it is never stale: a changed row simply
misses and is read whole again. Thread-safe (SQLite reads run in worker threads) and bounded: at most
``max_entries``, the longest since read whole out first.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Iterable, Mapping
from typing import Any, Generic, TypeVar

V = TypeVar("V")


class VersionedEntries(Generic[V]):
    def __init__(self, max_entries: int) -> None:
        if max_entries < 1:
            raise ValueError(f"max_entries must be at least 1, got {max_entries}")
        self.max_entries = max_entries
        self._entries: OrderedDict[str, tuple[Any, V]] = OrderedDict()
        self._lock = threading.Lock()
        self.read_whole = 0  # how many values were built from whole rows so far (what a miss costs)

    def __len__(self) -> int:
        with self._lock:
            return len(self._entries)

    def found(self, versions: Iterable[tuple[str, Any]]) -> tuple[dict[str, V], list[str]]:
        """The values held at the given (id, version), and the ids that are not (to read whole)."""
        out: dict[str, V] = {}
        missing: list[str] = []
        with self._lock:  # plain lookups: a hit does not reorder (eviction is by when a value was read whole)
            get = self._entries.get
            for key, version in versions:
                entry = get(key)
                if entry is not None and entry[0] == version:
                    out[key] = entry[1]
                else:
                    missing.append(key)
        return out, missing

    def put(self, built: Mapping[str, tuple[Any, V]]) -> None:
        """Hold each (version, value) just built from a whole row, by id."""
        with self._lock:
            for key, entry in built.items():
                self._entries[key] = entry
                self._entries.move_to_end(key)
            self.read_whole += len(built)
            while len(self._entries) > self.max_entries:
                self._entries.popitem(last=False)


__all__ = ["VersionedEntries"]
