"""Blocks as views show them, built once per block version and shared by every view that shows the block.

An agent's view (``AgentState``) shows all its blocks; before this cache, every view built again read every
block whole and made one pydantic ``Block`` each, so attaching a block to an agent holding 10,000 cost
forty times what it cost at 10. Now a view reads only its links (block id, and the block's ``updated_at`` as
the database stores it, bumped by every UPDATE: see ``models._Timestamps``) in one narrow statement, and
reads whole only the blocks this process has not seen at that version. The ``Block`` of a version is
immutable by convention, like the views that hold it (``host.services.view_cache``).

Safe inside a write transaction too: an entry is keyed by the version it was read at, so a block written by
a transaction that then rolls back leaves an entry that no committed version ever matches.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from typing import Any, NamedTuple

from sqlalchemy import String, bindparam, select, type_coerce
from sqlalchemy.orm import Session

from host.persistence.convert import block_out
from host.persistence.models import AgentBlockRow, BlockRow
from host.schemas.blocks import Block
from host.services.versioned import VersionedEntries


class BlockView(NamedTuple):
    """A block as read for a view or a prompt: plain columns, no ORM instance (building thousands of those
    was most of the cost of attaching a block to an agent that has many)."""

    id: str
    value: str
    limit: int
    name: str | None
    is_template: bool
    preserve_on_migration: bool
    label: str
    read_only: bool
    description: str | None
    metadata_: dict[str, Any] | None


DEFAULT_MAX_BLOCKS = 50_000  # a Block is about 1-2 KB in memory: at most ~75 MB, usually far less
WHOLE_READ_BELOW = 500  # more blocks than this to read whole: read them through their agents' links instead

_COLUMNS = tuple(getattr(BlockRow, f) for f in BlockView._fields)
_STAMP = type_coerce(BlockRow.updated_at, String)  # compared, never parsed (SQLite text, Postgres timestamp)

# Each agent's links in order, with the version of each block: what a view needs to find its blocks.
_LINKS = (select(AgentBlockRow.agent_id, AgentBlockRow.block_id, _STAMP)
          .join(BlockRow, BlockRow.id == AgentBlockRow.block_id)
          .where(AgentBlockRow.agent_id.in_(bindparam("agents", expanding=True)))
          .order_by(AgentBlockRow.position, BlockRow.created_at))
_BY_ID = select(_STAMP, *_COLUMNS).where(BlockRow.id.in_(bindparam("ids", expanding=True)))
_BY_AGENT = (select(_STAMP, *_COLUMNS).join(AgentBlockRow, AgentBlockRow.block_id == BlockRow.id)
             .where(AgentBlockRow.agent_id.in_(bindparam("agents", expanding=True))))


class BlockCache(VersionedEntries[Block]):
    """At most ``max_entries`` blocks (``VersionedEntries``, the longest since read whole out first). An agent with
    more blocks than that is still answered right, only without the saving. ``read_whole``: how many blocks were
    read whole so far (what a view built again costs)."""

    def __init__(self, max_entries: int = DEFAULT_MAX_BLOCKS) -> None:
        super().__init__(max_entries)

    def blocks_of(self, session: Session, agent_ids: Sequence[str]) -> dict[str, list[Block]]:
        """The blocks of each agent, in order (synchronous: run inside a unit of work or ``run_sync``)."""
        out: dict[str, list[Block]] = defaultdict(list)
        if not agent_ids:
            return out
        links = session.execute(_LINKS, {"agents": list(agent_ids)}).all()
        found, _ = self.found((block_id, stamp) for _, block_id, stamp in links)
        missing = {b: a for a, b, _ in links if b not in found}
        if missing:
            if len(missing) < WHOLE_READ_BELOW:
                rows = session.execute(_BY_ID, {"ids": list(missing)}).all()
            else:  # many (a first view of a large agent): through the links, no list of ids to bind
                rows = session.execute(_BY_AGENT, {"agents": sorted(set(missing.values()))}).all()
            built = {row[1]: (row[0], block_out(BlockView._make(row[1:]))) for row in rows if row[1] in missing}
            self.put(built)
            found.update((block_id, block) for block_id, (_, block) in built.items())
        for agent_id, block_id, _ in links:
            block = found.get(block_id)
            if block is not None:  # None: deleted between the two statements (another transaction)
                out[agent_id].append(block)
        return out
