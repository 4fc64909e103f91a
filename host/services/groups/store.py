"""Groups as stored: create (validated, all or nothing), read, list, count, modify, delete; members and
shared blocks; the group's messages (``messages.group_id``).

Rules (each a 4xx naming the field; nothing is written when one fails):

    agent_ids            at least one, no duplicates, every id an existing agent (404 names it)
    manager_agent_id     an existing agent, required by supervisor/dynamic/sleeptime/voice_sleeptime,
                         never also a member (the manager speaks for the group, it does not take turns)
    max_turns, sleeptime_agent_frequency >= 1 (pydantic, 422)
    shared_block_ids     existing blocks; attached to every member (and the manager); also one at a time
                         (``share_block``: detaching takes it off every member and the manager)
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from host.domain.messages import to_letta_messages
from host.errors import InvalidRequestError, NotFoundError
from host.ids import new_id, utcnow
from host.memory.system import mark_stale
from host.persistence.convert import message_out
from host.persistence.db import Database
from host.persistence.models import (
    AgentBlockRow,
    AgentRow,
    BlockRow,
    GroupAgentRow,
    GroupBlockRow,
    GroupRow,
    MessageRow,
)
from host.persistence.paging import paginate
from host.schemas.groups import Group, GroupCreate, GroupUpdate

NEEDS_MANAGER = ("supervisor", "dynamic", "sleeptime", "voice_sleeptime")
DEFAULT_FREQUENCY = 5  # Letta's sleeptime default (agents made with enable_sleeptime)


def group_out(row: GroupRow, agent_ids: list[str], block_ids: list[str]) -> Group:
    return Group(id=row.id, manager_type=row.manager_type, agent_ids=agent_ids, description=row.description,  # type: ignore[arg-type]
                 shared_block_ids=block_ids, manager_agent_id=row.manager_agent_id,
                 termination_token=row.termination_token, max_turns=row.max_turns,
                 sleeptime_agent_frequency=row.sleeptime_agent_frequency, turns_counter=row.turns_counter,
                 last_processed_message_id=row.last_processed_message_id,
                 max_message_buffer_length=row.max_message_buffer_length,
                 min_message_buffer_length=row.min_message_buffer_length)


async def _check_agents(s: AsyncSession, agent_ids: list[str], manager: str | None) -> None:
    if not agent_ids:
        raise InvalidRequestError("agent_ids: a group needs at least one agent")
    seen: set[str] = set()
    for a in agent_ids:
        if a in seen:
            raise InvalidRequestError(f"agent_ids: agent {a!r} is listed twice")
        seen.add(a)
    if manager is not None and manager in seen:
        raise InvalidRequestError(f"manager_agent_id: agent {manager!r} manages the group and cannot also be one "
                                  "of its agent_ids")
    wanted = list(seen | ({manager} if manager else set()))
    found = set((await s.execute(select(AgentRow.id).where(AgentRow.id.in_(wanted)))).scalars())
    for a in agent_ids:
        if a not in found:
            raise NotFoundError(f"agent_ids: no agent with id {a!r}")
    if manager is not None and manager not in found:
        raise NotFoundError(f"manager_agent_id: no agent with id {manager!r}")


async def _check_blocks(s: AsyncSession, block_ids: list[str]) -> None:
    found = set((await s.execute(select(BlockRow.id).where(BlockRow.id.in_(block_ids)))).scalars()) if block_ids else set()
    for b in block_ids:
        if b not in found:
            raise NotFoundError(f"shared_block_ids: no block with id {b!r}")


async def share_blocks(s: AsyncSession, agent_ids: list[str], block_ids: list[str]) -> None:
    """Attach each block to each agent that lacks it (at the end of its blocks)."""
    for agent_id in agent_ids:
        have = set((await s.execute(select(AgentBlockRow.block_id).where(AgentBlockRow.agent_id == agent_id))).scalars())
        pos = len(have)
        for b in block_ids:
            if b not in have:
                s.add(AgentBlockRow(agent_id=agent_id, block_id=b, position=pos))
                pos += 1
        if any(b not in have for b in block_ids):
            await s.execute(update(AgentRow).where(AgentRow.id == agent_id).values(updated_at=utcnow(),
                                                                                   prompt_stale=True))


class GroupStore:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def _out(self, s: AsyncSession, row: GroupRow) -> Group:
        members = (await s.execute(select(GroupAgentRow.agent_id).where(GroupAgentRow.group_id == row.id)
                                   .order_by(GroupAgentRow.position))).scalars()
        blocks = (await s.execute(select(GroupBlockRow.block_id).where(GroupBlockRow.group_id == row.id))).scalars()
        return group_out(row, list(members), sorted(blocks))

    @staticmethod
    async def _row(s: AsyncSession, group_id: str) -> GroupRow:
        row = await s.get(GroupRow, group_id)
        if row is None:
            raise NotFoundError.for_id("Group", group_id)
        return row

    async def create(self, req: GroupCreate, *, session: AsyncSession | None = None) -> Group:
        cfg = req.manager_config
        manager = getattr(cfg, "manager_agent_id", None)
        if session is not None:
            return await self._create(session, req, manager)
        async with self.db.transaction() as s:
            return await self._create(s, req, manager)

    async def _create(self, s: AsyncSession, req: GroupCreate, manager: str | None) -> Group:
        cfg = req.manager_config
        await _check_agents(s, req.agent_ids, manager)
        await _check_blocks(s, req.shared_block_ids)
        now = utcnow()
        row = GroupRow(id=new_id("group"), manager_type=cfg.manager_type, description=req.description,
                       manager_agent_id=manager, created_at=now, updated_at=now)
        _apply_config(row, cfg.model_dump(exclude_unset=False), creating=True)
        s.add(row)
        await s.flush()
        for pos, agent_id in enumerate(req.agent_ids):
            s.add(GroupAgentRow(group_id=row.id, agent_id=agent_id, position=pos))
        for b in dict.fromkeys(req.shared_block_ids):
            s.add(GroupBlockRow(group_id=row.id, block_id=b))
        await share_blocks(s, req.agent_ids + ([manager] if manager else []), req.shared_block_ids)
        await s.flush()
        return await self._out(s, row)

    async def get(self, group_id: str) -> Group:
        async with self.db.session() as s:
            return await self._out(s, await self._row(s, group_id))

    async def list(self, *, manager_type: str | None = None, before: str | None = None, after: str | None = None,
                   limit: int | None = None, agent_id: str | None = None) -> list[Group]:
        async with self.db.session() as s:
            stmt = select(GroupRow)
            if manager_type:
                stmt = stmt.where(GroupRow.manager_type == manager_type)
            if agent_id:
                members = select(GroupAgentRow.group_id).where(GroupAgentRow.agent_id == agent_id)
                stmt = stmt.where((GroupRow.id.in_(members)) | (GroupRow.manager_agent_id == agent_id))
            rows = await paginate(s, stmt, GroupRow, before=before, after=after, limit=limit, ascending=True)
            return [await self._out(s, r) for r in rows]

    async def count(self) -> int:
        async with self.db.session() as s:
            return int((await s.execute(select(func.count()).select_from(GroupRow))).scalar_one())

    async def modify(self, group_id: str, req: GroupUpdate) -> Group:
        async with self.db.transaction() as s:
            row = await self._row(s, group_id)
            cfg = req.manager_config
            if cfg is not None and cfg.manager_type != row.manager_type:
                raise InvalidRequestError(f"manager_config.manager_type: the group is {row.manager_type!r}; "
                                          f"it cannot become {cfg.manager_type!r} (create a new group)")
            manager = row.manager_agent_id
            if cfg is not None and getattr(cfg, "manager_agent_id", None):
                manager = cfg.manager_agent_id  # type: ignore[union-attr]
            agent_ids = req.agent_ids
            if agent_ids is None:
                agent_ids = list((await s.execute(select(GroupAgentRow.agent_id).where(
                    GroupAgentRow.group_id == group_id).order_by(GroupAgentRow.position))).scalars())
            await _check_agents(s, agent_ids, manager)
            if req.shared_block_ids is not None:
                await _check_blocks(s, req.shared_block_ids)
            row.manager_agent_id = manager
            if cfg is not None:
                _apply_config(row, cfg.model_dump(exclude_unset=True), creating=False)
            if req.description is not None:
                row.description = req.description
            if req.agent_ids is not None:
                await s.execute(delete(GroupAgentRow).where(GroupAgentRow.group_id == group_id))
                for pos, agent_id in enumerate(agent_ids):
                    s.add(GroupAgentRow(group_id=group_id, agent_id=agent_id, position=pos))
            if req.shared_block_ids is not None:
                await s.execute(delete(GroupBlockRow).where(GroupBlockRow.group_id == group_id))
                for b in dict.fromkeys(req.shared_block_ids):
                    s.add(GroupBlockRow(group_id=group_id, block_id=b))
                await share_blocks(s, agent_ids + ([manager] if manager else []), req.shared_block_ids)
            row.updated_at = utcnow()
            await s.flush()
            return await self._out(s, row)

    async def share_block(self, group_id: str, block_id: str, *, shared: bool) -> None:
        """One shared block on (or off) the group and every member (and the manager), in one transaction."""
        async with self.db.transaction() as s:
            row = await self._row(s, group_id)
            if await s.get(BlockRow, block_id) is None:
                raise NotFoundError.for_id("Block", block_id)
            agent_ids = list((await s.execute(select(GroupAgentRow.agent_id).where(
                GroupAgentRow.group_id == group_id).order_by(GroupAgentRow.position))).scalars())
            agent_ids += [row.manager_agent_id] if row.manager_agent_id else []
            link = await s.get(GroupBlockRow, (group_id, block_id))
            if shared:
                if link is None:
                    s.add(GroupBlockRow(group_id=group_id, block_id=block_id))
                await share_blocks(s, agent_ids, [block_id])
            else:
                if link is not None:
                    await s.delete(link)
                await s.execute(delete(AgentBlockRow).where(AgentBlockRow.block_id == block_id,
                                                            AgentBlockRow.agent_id.in_(agent_ids)))
                await s.execute(update(AgentRow).where(AgentRow.id.in_(agent_ids)).values(updated_at=utcnow()))
            row.updated_at = utcnow()
            await s.flush()
            await s.run_sync(mark_stale, agent_ids)  # each member's prompt shows (or drops) the block when next read

    async def delete(self, group_id: str) -> None:
        async with self.db.transaction() as s:
            await self._row(s, group_id)
            await s.execute(delete(GroupRow).where(GroupRow.id == group_id))

    async def messages(self, group_id: str, *, after: str | None, before: str | None, limit: int | None,
                       use_assistant_message: bool = True, assistant_tool: str = "send_message",
                       assistant_kwarg: str = "message") -> list[dict[str, Any]]:
        async with self.db.session() as s:
            await self._row(s, group_id)
            stmt = select(MessageRow).where(MessageRow.group_id == group_id)

            async def seq_of(mid: str) -> int | None:
                return (await s.execute(select(MessageRow.seq).where(MessageRow.id == mid))).scalar_one_or_none()

            if after and (seq := await seq_of(after)) is not None:
                stmt = stmt.where(MessageRow.seq > seq)
            if before and (seq := await seq_of(before)) is not None:
                stmt = stmt.where(MessageRow.seq < seq)
            stmt = stmt.order_by(MessageRow.seq.desc())
            rows = list((await s.execute(stmt.limit(limit) if limit else stmt)).scalars())[::-1]
        out: list[dict[str, Any]] = []
        for row in rows:
            out.extend(to_letta_messages(message_out(row), use_assistant_message=use_assistant_message,
                                         assistant_tool=assistant_tool, assistant_kwarg=assistant_kwarg))
        return out

    async def tag_run(self, group_id: str, run_id: str) -> None:
        """Mark the messages a member's run wrote as the group's."""
        async with self.db.transaction() as s:
            await s.execute(update(MessageRow).where(MessageRow.run_id == run_id).values(group_id=group_id))

    async def reset_messages(self, group_id: str) -> None:
        """Forget the group's conversation: its messages leave every member's history (Letta deletes them)."""
        async with self.db.transaction() as s:
            await self._row(s, group_id)
            ids = set((await s.execute(select(MessageRow.id).where(MessageRow.group_id == group_id))).scalars())
            members = list((await s.execute(select(GroupAgentRow.agent_id).where(
                GroupAgentRow.group_id == group_id))).scalars())
            for agent in (await s.execute(select(AgentRow).where(AgentRow.id.in_(members)))).scalars():
                agent.message_ids = [m for m in agent.message_ids if m not in ids]
                agent.updated_at = utcnow()
            await s.execute(delete(MessageRow).where(MessageRow.group_id == group_id))
            row = await self._row(s, group_id)
            row.turns_counter = 0 if row.turns_counter is not None else None
            row.last_processed_message_id = None

    async def members(self, group_id: str) -> tuple[GroupRow, list[str]]:
        async with self.db.session() as s:
            row = await self._row(s, group_id)
            members = (await s.execute(select(GroupAgentRow.agent_id).where(GroupAgentRow.group_id == group_id)
                                       .order_by(GroupAgentRow.position))).scalars()
            return row, list(members)


def _apply_config(row: GroupRow, cfg: dict[str, Any], *, creating: bool) -> None:
    for key in ("termination_token", "max_turns", "sleeptime_agent_frequency", "max_message_buffer_length",
                "min_message_buffer_length"):
        if key in cfg and (cfg[key] is not None or creating):
            setattr(row, key, cfg[key])
    if creating and row.manager_type in ("sleeptime", "voice_sleeptime"):
        row.turns_counter = 0
        if row.manager_type == "sleeptime" and row.sleeptime_agent_frequency is None:
            row.sleeptime_agent_frequency = DEFAULT_FREQUENCY
    if row.manager_type == "dynamic" and creating and row.termination_token is None:
        row.termination_token = "DONE!"
