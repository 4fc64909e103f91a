"""Agent views served again while nothing they show has changed: a bounded cache keyed by versions.

A view (``AgentState``) shows the agent's row and what is linked to it: its blocks, tools and sources (each
a row with its own ``updated_at``, bumped by every UPDATE, see ``models._Timestamps``), its tags and its
identities. Its *version key* is read from the database on every request, in one statement that also finds
the agent (only if it is the caller's organization's: a GET of a cached view costs that one statement):

    (agent.updated_at, [(block id, position, updated_at)...], [(tool id, position, updated_at)...],
     [(source id, updated_at)...], [tags...], [identity ids...], [ids of the groups it is in or manages])

so any change to any of these, made by any route or by another server process sharing the database,
changes the key and the view is built again. The key is read before the view is built, so a cached view
is never older than its key. The cache holds at most ``max_entries`` views (least recently used out).
Only whole views are cached (``include=None``), and only from reads, never inside a write transaction.
"""

from __future__ import annotations

import threading
from collections import OrderedDict, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, cast

from sqlalchemy import Connection, String, bindparam, func, literal, null, select, type_coerce, union_all
from sqlalchemy.orm import Session

from host.persistence.models import (
    AgentBlockRow,
    AgentRow,
    AgentSourceRow,
    AgentTagRow,
    AgentToolRow,
    BlockRow,
    GroupAgentRow,
    GroupRow,
    IdentityAgentRow,
    SourceRow,
    ToolRow,
)
from host.persistence.tenancy import scope_org
from host.schemas.agents import AgentState
from host.services.agent_view import hydrate_sync
from host.services.block_cache import BlockCache
from host.services.tool_cache import ToolCache

DEFAULT_MAX_ENTRIES = 256  # a view with its JSON is about 36-60 KB: at most ~15 MB

ViewKey = tuple[Any, ...]


@dataclass(frozen=True)
class ViewCacheStats:
    entries: int
    max_entries: int
    hits: int
    misses: int


@dataclass
class _Entry:
    key: ViewKey
    view: AgentState
    json: bytes | None = None


class AgentViewCache:
    """Thread-safe (SQLite reads run in worker threads); bounded to ``max_entries`` views."""

    def __init__(self, max_entries: int = DEFAULT_MAX_ENTRIES, blocks: BlockCache | None = None,
                 tools: ToolCache | None = None) -> None:
        if max_entries < 1:
            raise ValueError(f"max_entries must be at least 1, got {max_entries}")
        self.max_entries = max_entries
        # The blocks of the views built here, by block version: a view built again after one block was
        # attached reads that block whole, not all of them (writes that answer a view use it too).
        self.blocks = blocks if blocks is not None else BlockCache()
        self.tools = tools if tools is not None else ToolCache()  # and of their tools (creates use it too)
        self._views: OrderedDict[str, _Entry] = OrderedDict()
        self._lock = threading.Lock()
        self._hits = self._misses = 0

    @property
    def stats(self) -> ViewCacheStats:
        with self._lock:
            return ViewCacheStats(entries=len(self._views), max_entries=self.max_entries, hits=self._hits,
                                  misses=self._misses)

    def get(self, agent_id: str, key: ViewKey) -> AgentState | None:
        with self._lock:
            entry = self._views.get(agent_id)
            if entry is None or entry.key != key:
                self._misses += 1
                return None
            self._views.move_to_end(agent_id)
            self._hits += 1
            return entry.view

    def put(self, agent_id: str, key: ViewKey, view: AgentState) -> None:
        with self._lock:
            self._views[agent_id] = _Entry(key, view)
            self._views.move_to_end(agent_id)
            while len(self._views) > self.max_entries:
                self._views.popitem(last=False)

    def seed(self, view: AgentState, key: ViewKey) -> bool:
        """Cache the view a write built from the rows it wrote (the new agent's answer) under the key the same
        transaction read, so that the next read needs no build. Only where that transaction is one snapshot
        (SQLite: one writer at a time holds the file from BEGIN IMMEDIATE to commit; Postgres' READ COMMITTED
        gives each statement its own) and where the view shows its lists in the stored order: tags sorted,
        as a build reads them; identities and sources, which a build reads in no defined order, at most one
        each. Returns whether it was cached."""
        if len(view.identity_ids) > 1 or len(view.sources) > 1:
            return False
        self.put(view.id, key, view.model_copy(update={"tags": sorted(view.tags)}))
        return True

    def json(self, view: AgentState) -> bytes:
        """``view`` as JSON (by alias): serialized once per cached view, then the same bytes again."""
        with self._lock:
            entry = self._views.get(view.id)
        if entry is None or entry.view is not view:  # not (or no longer) a cached view
            return view.model_dump_json(by_alias=True).encode()
        if entry.json is None:
            entry.json = view.model_dump_json(by_alias=True).encode()
        return entry.json

    def grouped(self, view: AgentState) -> bool | None:
        """Whether the agent of ``view`` (a view this cache answered) belongs to or manages a multi-agent group,
        as read with its key; None when ``view`` is not a cached view."""
        with self._lock:
            entry = self._views.get(view.id)
        if entry is None or entry.view is not view:
            return None
        return any(link[0] == "m" for link in entry.key[1])

    def lookup(self, conn: Connection, agent_id: str) -> tuple[ViewKey, AgentState | None] | None:
        """The version key of the caller's agent ``agent_id`` and its cached view (None when the cache has none
        for that key); None when there is no such agent (of the caller's organization). One statement, on a
        bare connection (``Database.peek``)."""
        key = version_key(conn, agent_id)
        return None if key is None else (key, self.get(agent_id, key))

    def build(self, session: Session, agent_id: str, key: ViewKey) -> AgentState | None:
        """Build the view of ``agent_id`` whose key ``lookup`` just read, and cache it under that key (the view is
        as new as the key or newer, never older); None when the agent is gone meanwhile."""
        row = session.get(AgentRow, agent_id)  # scoped
        if row is None:
            return None
        view = hydrate_sync(session, [row], blocks=self.blocks, tool_cache=self.tools)[0]
        self.put(agent_id, key, view)
        return view

    def views(self, session: Session, agent_ids: Sequence[str]) -> list[AgentState]:
        """The whole views of ``agent_ids`` (a page the caller's scoped query just read), in that order, each
        built again only where its version key changed; an agent deleted since the page was read is left
        out (synchronous: run inside ``Database.read``)."""
        if not agent_ids:
            return []
        keys = version_keys(session, agent_ids)
        found: dict[str, AgentState] = {}
        stale: list[str] = []
        for agent_id in agent_ids:
            key = keys.get(agent_id)
            view = None if key is None else self.get(agent_id, key)
            if view is not None:
                found[agent_id] = view
            elif key is not None:
                stale.append(agent_id)
        if stale:  # loaded whole, scoped, in one statement
            rows = session.execute(select(AgentRow).where(AgentRow.id.in_(stale))).scalars().all()
            for row, view in zip(rows, hydrate_sync(session, rows, blocks=self.blocks, tool_cache=self.tools), strict=True):
                self.put(row.id, keys[row.id], view)
                found[row.id] = view
        return [found[agent_id] for agent_id in agent_ids if agent_id in found]


def _stamp(column: Any) -> Any:
    """A timestamp as the database stores it: compared, never parsed (SQLite keeps text, Postgres a timestamp)."""
    return type_coerce(column, String)


def _links(one: bool) -> Any:
    """The version-key statement: for the agents ``ids`` (expanding, rendered again per number of ids), or for
    the one agent ``id`` (compiled once, no rendering per call: a GET of one agent)."""
    ids = bindparam("id") if one else bindparam("ids", expanding=True)

    def of(column: Any) -> Any:
        return column == ids if one else column.in_(ids)

    return union_all(
        # the agent itself, if it is the caller's (``org`` NULL: the unscoped system sees every agent)
        select(literal("a"), AgentRow.id, AgentRow.id, null(), _stamp(AgentRow.updated_at))
        .where(of(AgentRow.id), AgentRow.organization_id == func.coalesce(bindparam("org", type_=String),
                                                                                 AgentRow.organization_id)),
        select(literal("b"), AgentBlockRow.agent_id, AgentBlockRow.block_id, AgentBlockRow.position,
               _stamp(BlockRow.updated_at))
        .join(BlockRow, BlockRow.id == AgentBlockRow.block_id).where(of(AgentBlockRow.agent_id)),
        select(literal("t"), AgentToolRow.agent_id, AgentToolRow.tool_id, AgentToolRow.position, _stamp(ToolRow.updated_at))
        .join(ToolRow, ToolRow.id == AgentToolRow.tool_id).where(of(AgentToolRow.agent_id)),
        select(literal("s"), AgentSourceRow.agent_id, AgentSourceRow.source_id, null(), _stamp(SourceRow.updated_at))
        .join(SourceRow, SourceRow.id == AgentSourceRow.source_id).where(of(AgentSourceRow.agent_id)),
        select(literal("g"), AgentTagRow.agent_id, AgentTagRow.tag, null(), null())
        .where(of(AgentTagRow.agent_id)),
        select(literal("i"), IdentityAgentRow.agent_id, IdentityAgentRow.identity_id, null(), null())
        .where(of(IdentityAgentRow.agent_id)),
        # groups are not part of the view (answers add them apart): only whether there is any to add
        select(literal("m"), GroupAgentRow.agent_id, GroupAgentRow.group_id, null(), null())
        .where(of(GroupAgentRow.agent_id)),
        select(literal("m"), GroupRow.manager_agent_id, GroupRow.id, null(), null())
        .where(of(GroupRow.manager_agent_id)),
    )


# Built once: compiled once and cached by SQLAlchemy. Run on the session's connection, as Core, so the session's
# organization criteria do not apply: it is scoped by itself (``org``), and its links are read by the ids of agents
# it finds the caller's (host.persistence.tenancy).
_LINKS = _links(one=False)
_LINKS_ONE = _links(one=True)


def version_keys(session: Session, agent_ids: Sequence[str]) -> dict[str, ViewKey]:
    """The version key of each of ``agent_ids`` that is an agent of the caller's, read in one statement (see
    the module docstring); the others are absent. On the session's connection, as Core: the ORM's result
    processing is not needed for plain tuples."""
    return _keyed(session.connection().execute(_LINKS, {"ids": list(agent_ids), "org": scope_org()}).all())


def version_key(conn: Connection, agent_id: str) -> ViewKey | None:
    """The version key of the caller's agent ``agent_id`` (None when there is no such agent of the caller's),
    in one statement: runs on a bare connection, no transaction needed."""
    return _keyed(conn.execute(_LINKS_ONE, {"id": agent_id, "org": scope_org()}).all()).get(agent_id)


def _keyed(result: Sequence[Any]) -> dict[str, ViewKey]:
    linked: dict[str, list[tuple[Any, ...]]] = defaultdict(list)
    stamps: dict[str, Any] = {}
    rows = cast(list[tuple[str, str, str, int | None, Any]], result)
    for kind, agent_id, ref, position, updated_at in rows:
        if kind == "a":
            stamps[agent_id] = updated_at
        else:
            linked[agent_id].append((kind, ref, position, updated_at))
    # Sorted as whole tuples: (kind, ref) is unique within an agent's links (one row per link; only an agent that
    # is both a member and the manager of one group has a ("m", group) twice, as equal tuples), so no comparison
    # ever reaches a position or a stamp that could be None.
    return {agent_id: (stamp, tuple(sorted(linked[agent_id]))) for agent_id, stamp in stamps.items()}
