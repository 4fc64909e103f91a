"""Agent views served again while nothing they show has changed: a bounded cache keyed by versions.

A view (``AgentState``) shows the agent's row and what is linked to it: its blocks, tools and sources (each
a row with its own ``updated_at``, bumped by every UPDATE, see ``models._Timestamps``), its tags and its
identities. Its *version key* is read from the database on every request, in one statement, after the
caller's normal (scoped) lookup of the agent row:

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

from sqlalchemy import String, bindparam, inspect, literal, null, select, type_coerce, union_all
from sqlalchemy.orm import Session, load_only

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
from host.schemas.agents import AgentState
from host.services.agent_view import hydrate_sync
from host.services.block_cache import BlockCache

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

    def __init__(self, max_entries: int = DEFAULT_MAX_ENTRIES, blocks: BlockCache | None = None) -> None:
        if max_entries < 1:
            raise ValueError(f"max_entries must be at least 1, got {max_entries}")
        self.max_entries = max_entries
        # The blocks of the views built here, by block version: a view built again after one block was
        # attached reads that block whole, not all of them (writes that answer a view use it too).
        self.blocks = blocks if blocks is not None else BlockCache()
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

    def views(self, session: Session, agents: Sequence[AgentRow]) -> list[AgentState]:
        """The whole views of ``agents`` (rows just read by the caller's scoped lookup), built only where
        the version key changed since the cached one (synchronous: run inside ``Database.read``)."""
        if not agents:
            return []
        keys = version_keys(session, agents)
        found: dict[str, AgentState] = {}
        stale: list[AgentRow] = []
        for agent in agents:
            view = self.get(agent.id, keys[agent.id])
            if view is None:
                stale.append(agent)
            else:
                found[agent.id] = view
        for agent, view in zip(stale, hydrate_sync(session, _loaded(session, stale), blocks=self.blocks), strict=True):
            self.put(agent.id, keys[agent.id], view)
            found[agent.id] = view
        return [found[a.id] for a in agents]


KEY_COLUMNS = (AgentRow.id, AgentRow.created_at, AgentRow.updated_at)


def key_columns_only() -> Any:
    """A loader option for a query of agent rows whose views are read through the cache: only the columns
    the key and paging need are loaded; the rows whose view is built again are loaded whole then."""
    return load_only(*KEY_COLUMNS)


def _loaded(session: Session, agents: list[AgentRow]) -> list[AgentRow]:
    partial = [a.id for a in agents if inspect(a).unloaded]
    if partial:  # the same instances, every column loaded (one statement)
        session.execute(select(AgentRow).where(AgentRow.id.in_(partial))
                        .execution_options(populate_existing=True)).scalars().all()
    return agents


def _stamp(column: Any) -> Any:
    """A timestamp as the database stores it: compared, never parsed (SQLite keeps text, Postgres a timestamp)."""
    return type_coerce(column, String)


def _links() -> Any:
    ids = bindparam("ids", expanding=True)
    return union_all(
        select(literal("b"), AgentBlockRow.agent_id, AgentBlockRow.block_id, AgentBlockRow.position,
               _stamp(BlockRow.updated_at))
        .join(BlockRow, BlockRow.id == AgentBlockRow.block_id).where(AgentBlockRow.agent_id.in_(ids)),
        select(literal("t"), AgentToolRow.agent_id, AgentToolRow.tool_id, AgentToolRow.position, _stamp(ToolRow.updated_at))
        .join(ToolRow, ToolRow.id == AgentToolRow.tool_id).where(AgentToolRow.agent_id.in_(ids)),
        select(literal("s"), AgentSourceRow.agent_id, AgentSourceRow.source_id, null(), _stamp(SourceRow.updated_at))
        .join(SourceRow, SourceRow.id == AgentSourceRow.source_id).where(AgentSourceRow.agent_id.in_(ids)),
        select(literal("g"), AgentTagRow.agent_id, AgentTagRow.tag, null(), null())
        .where(AgentTagRow.agent_id.in_(ids)),
        select(literal("i"), IdentityAgentRow.agent_id, IdentityAgentRow.identity_id, null(), null())
        .where(IdentityAgentRow.agent_id.in_(ids)),
        # groups are not part of the view (answers add them apart): only whether there is any to add
        select(literal("m"), GroupAgentRow.agent_id, GroupAgentRow.group_id, null(), null())
        .where(GroupAgentRow.agent_id.in_(ids)),
        select(literal("m"), GroupRow.manager_agent_id, GroupRow.id, null(), null())
        .where(GroupRow.manager_agent_id.in_(ids)),
    )


_LINKS = _links()  # built once: compiled once and cached by SQLAlchemy


def version_keys(session: Session, agents: Sequence[AgentRow]) -> dict[str, ViewKey]:
    """Each agent's version key, read in one statement (see the module docstring)."""
    linked: dict[str, list[tuple[Any, ...]]] = defaultdict(list)
    rows = cast(list[tuple[str, str, str, int | None, Any]], session.execute(_LINKS, {"ids": [a.id for a in agents]}).all())
    for kind, agent_id, ref, position, updated_at in rows:
        linked[agent_id].append((kind, ref, position, updated_at))
    return {a.id: (a.updated_at, tuple(sorted(linked[a.id], key=_order))) for a in agents}


def _order(link: tuple[Any, ...]) -> tuple[str, str]:
    return link[0], link[1]
