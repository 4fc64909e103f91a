"""Tools as views show them, built once per tool version and shared by every view and every create that shows them.

Most agents share most of their tools (the base tools). Before this cache every view built again, and every
agent created, read each of its tools whole (source code, JSON schema, ...) and made one pydantic ``Tool`` of
each. Now a caller reads only (tool id, the tool's ``updated_at`` as the database stores it, bumped by every
UPDATE: see ``models._Timestamps``), and the tools this process has not seen at that version are read whole.
A ``Tool`` of a version is immutable by convention, like the views that hold it (``host.services.view_cache``).

Safe inside a write transaction too: an entry is keyed by the version it was read at, so a tool written by a
transaction that then rolls back leaves an entry that no committed version ever matches.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import String, bindparam, select, type_coerce
from sqlalchemy.orm import Session

from host.persistence.convert import tool_out
from host.persistence.models import ToolRow
from host.schemas.tools import Tool
from host.services.versioned import VersionedEntries

DEFAULT_MAX_TOOLS = 2_000  # a Tool with its schema is about 5-20 KB in memory: at most ~40 MB, usually far less

STAMP = type_coerce(ToolRow.updated_at, String)  # compared, never parsed (SQLite text, Postgres timestamp)
_WHOLE = select(STAMP, ToolRow).where(ToolRow.id.in_(bindparam("ids", expanding=True)))


class ToolCache(VersionedEntries[Tool]):
    """At most ``max_entries`` tools (``VersionedEntries``); ``read_whole``: how many were read whole so far."""

    def __init__(self, max_entries: int = DEFAULT_MAX_TOOLS) -> None:
        super().__init__(max_entries)

    def views(self, session: Session, versions: Iterable[tuple[str, Any]]) -> dict[str, Tool]:
        """The ``Tool`` of each (tool id, stamp) read just now (``STAMP``), by id; a tool deleted since is absent.
        Reads whole, in one statement through the session (scoped like any ORM read), only the tools not held at
        that stamp (synchronous: run inside a unit of work)."""
        out, missing = self.found(versions)
        if missing:
            built = {row.id: (stamp, tool_out(row)) for stamp, row in session.execute(_WHOLE, {"ids": missing}).all()}
            self.put(built)
            out.update((tool_id, tool) for tool_id, (_, tool) in built.items())
        return out


__all__ = ["DEFAULT_MAX_TOOLS", "STAMP", "ToolCache"]
