"""Identities: the users and organisations agents and blocks belong to."""

from __future__ import annotations

from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from host.errors import ConflictError, NotFoundError
from host.ids import new_id
from host.persistence.db import Database
from host.persistence.models import AgentRow, BlockRow, IdentityAgentRow, IdentityBlockRow, IdentityRow
from host.persistence.paging import paginate
from host.schemas.identities import Identity, IdentityCreate, IdentityProperty, IdentityUpdate


class IdentityService:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def _out(self, s: AsyncSession, rows: list[IdentityRow]) -> list[Identity]:
        ids = [r.id for r in rows]
        agents: dict[str, list[str]] = {i: [] for i in ids}
        blocks: dict[str, list[str]] = {i: [] for i in ids}
        if ids:
            for iid, aid in (await s.execute(select(IdentityAgentRow.identity_id, IdentityAgentRow.agent_id)
                                             .where(IdentityAgentRow.identity_id.in_(ids)))).all():
                agents[iid].append(aid)
            for iid, bid in (await s.execute(select(IdentityBlockRow.identity_id, IdentityBlockRow.block_id)
                                             .where(IdentityBlockRow.identity_id.in_(ids)))).all():
                blocks[iid].append(bid)
        return [Identity(id=r.id, identifier_key=r.identifier_key, name=r.name, identity_type=r.identity_type,
                         project_id=r.project_id, agent_ids=agents[r.id], block_ids=blocks[r.id],
                         organization_id=r.organization_id, properties=r.properties or []) for r in rows]

    async def _row(self, s: AsyncSession, identity_id: str) -> IdentityRow:
        row = await s.get(IdentityRow, identity_id)
        if row is None:
            raise NotFoundError.for_id("Identity", identity_id)
        return row

    async def _link(self, s: AsyncSession, row: IdentityRow, agent_ids: list[str] | None,
                    block_ids: list[str] | None) -> None:
        if agent_ids is not None:
            await s.execute(delete(IdentityAgentRow).where(IdentityAgentRow.identity_id == row.id))
            for aid in dict.fromkeys(agent_ids):
                if await s.get(AgentRow, aid) is None:
                    raise NotFoundError.for_id("Agent", aid)
                s.add(IdentityAgentRow(identity_id=row.id, agent_id=aid))
        if block_ids is not None:
            await s.execute(delete(IdentityBlockRow).where(IdentityBlockRow.identity_id == row.id))
            for bid in dict.fromkeys(block_ids):
                if await s.get(BlockRow, bid) is None:
                    raise NotFoundError.for_id("Block", bid)
                s.add(IdentityBlockRow(identity_id=row.id, block_id=bid))

    async def _find_key(self, s: AsyncSession, key: str, project_id: str | None) -> IdentityRow | None:
        stmt = select(IdentityRow).where(IdentityRow.identifier_key == key)
        stmt = stmt.where(IdentityRow.project_id.is_(None) if project_id is None else IdentityRow.project_id == project_id)
        return (await s.execute(stmt)).scalar_one_or_none()

    async def create(self, spec: IdentityCreate) -> Identity:
        async with self.db.transaction() as s:
            if await self._find_key(s, spec.identifier_key, spec.project_id) is not None:
                raise ConflictError(f"Identity with identifier_key {spec.identifier_key!r} already exists")
            row = IdentityRow(id=new_id("identity"), identifier_key=spec.identifier_key, name=spec.name,
                              identity_type=spec.identity_type, project_id=spec.project_id,
                              properties=[p.model_dump() for p in spec.properties or []])
            s.add(row)
            await s.flush()
            await self._link(s, row, spec.agent_ids, spec.block_ids)
            await s.flush()
            return (await self._out(s, [row]))[0]

    async def upsert(self, spec: IdentityCreate) -> Identity:
        async with self.db.transaction() as s:
            row = await self._find_key(s, spec.identifier_key, spec.project_id)
            if row is None:
                row = IdentityRow(id=new_id("identity"), identifier_key=spec.identifier_key,
                                  project_id=spec.project_id, name=spec.name, identity_type=spec.identity_type)
                s.add(row)
            row.name = spec.name
            row.identity_type = spec.identity_type
            row.properties = [p.model_dump() for p in spec.properties or []]
            await s.flush()
            await self._link(s, row, spec.agent_ids, spec.block_ids)
            await s.flush()
            return (await self._out(s, [row]))[0]

    async def get(self, identity_id: str) -> Identity:
        async with self.db.session() as s:
            return (await self._out(s, [await self._row(s, identity_id)]))[0]

    async def list(self, *, name: str | None = None, project_id: str | None = None,
                   identifier_key: str | None = None, identity_type: str | None = None,
                   before: str | None = None, after: str | None = None, limit: int | None = 50) -> list[Identity]:
        async with self.db.session() as s:
            stmt = select(IdentityRow)
            if name:
                stmt = stmt.where(IdentityRow.name.ilike(f"%{name}%"))
            if project_id:
                stmt = stmt.where(IdentityRow.project_id == project_id)
            if identifier_key:
                stmt = stmt.where(IdentityRow.identifier_key == identifier_key)
            if identity_type:
                stmt = stmt.where(IdentityRow.identity_type == identity_type)
            rows = await paginate(s, stmt, IdentityRow, before=before, after=after, limit=limit, ascending=True)
            return await self._out(s, rows)

    async def count(self) -> int:
        async with self.db.session() as s:
            return int((await s.execute(select(func.count()).select_from(IdentityRow))).scalar_one())

    async def modify(self, identity_id: str, update: IdentityUpdate) -> Identity:
        async with self.db.transaction() as s:
            row = await self._row(s, identity_id)
            data = update.model_dump(exclude_unset=True)
            if data.get("identifier_key") and data["identifier_key"] != row.identifier_key:
                if await self._find_key(s, data["identifier_key"], row.project_id) is not None:
                    raise ConflictError(f"Identity with identifier_key {data['identifier_key']!r} already exists")
                row.identifier_key = data["identifier_key"]
            for key in ("name", "identity_type"):
                if data.get(key) is not None:
                    setattr(row, key, data[key])
            if update.properties is not None:
                row.properties = [p.model_dump() for p in update.properties]
            await self._link(s, row, update.agent_ids, update.block_ids)
            await s.flush()
            return (await self._out(s, [row]))[0]

    async def link_agent(self, identity_id: str, agent_id: str, *, attached: bool) -> None:
        """Attach (idempotent) or detach one agent; both ids must exist."""
        await self._link_one(identity_id, AgentRow, "Agent", IdentityAgentRow, {"agent_id": agent_id}, attached)

    async def link_block(self, identity_id: str, block_id: str, *, attached: bool) -> None:
        """Attach (idempotent) or detach one block; both ids must exist."""
        await self._link_one(identity_id, BlockRow, "Block", IdentityBlockRow, {"block_id": block_id}, attached)

    async def _link_one(self, identity_id: str, target: type[Any], kind: str, link_type: type[Any],
                        key: dict[str, str], attached: bool) -> None:
        (target_id,) = key.values()
        async with self.db.transaction() as s:
            await self._row(s, identity_id)
            if await s.get(target, target_id) is None:
                raise NotFoundError.for_id(kind, target_id)
            link = await s.get(link_type, (identity_id, target_id))
            if attached and link is None:
                s.add(link_type(identity_id=identity_id, **key))
            elif not attached and link is not None:
                await s.delete(link)

    async def linked_ids(self, identity_id: str, *, blocks: bool, before: str | None, after: str | None,
                         limit: int | None, ascending: bool) -> list[str]:
        """One page of the identity's agents (or blocks) ids, by (created_at, id)."""
        async with self.db.session() as s:
            await self._row(s, identity_id)
            if blocks:
                stmt = select(BlockRow).join(IdentityBlockRow, IdentityBlockRow.block_id == BlockRow.id)
                stmt = stmt.where(IdentityBlockRow.identity_id == identity_id)
            else:
                stmt = select(AgentRow).join(IdentityAgentRow, IdentityAgentRow.agent_id == AgentRow.id)
                stmt = stmt.where(IdentityAgentRow.identity_id == identity_id)
            rows = await paginate(s, stmt, BlockRow if blocks else AgentRow, before=before, after=after,
                                  limit=limit, ascending=ascending)
            return [r.id for r in rows]

    async def set_properties(self, identity_id: str, properties: list[IdentityProperty]) -> Identity:
        async with self.db.transaction() as s:
            row = await self._row(s, identity_id)
            row.properties = [p.model_dump() for p in properties]
            await s.flush()
            return (await self._out(s, [row]))[0]

    async def delete(self, identity_id: str) -> None:
        async with self.db.transaction() as s:
            await s.delete(await self._row(s, identity_id))

    async def tags(self, *, query_text: str | None = None, after: str | None = None, limit: int | None = 50) -> list[str]:
        from host.persistence.models import AgentTagRow

        async with self.db.session() as s:
            stmt = select(AgentTagRow.tag).distinct().order_by(AgentTagRow.tag)
            if query_text:
                stmt = stmt.where(AgentTagRow.tag.ilike(f"%{query_text}%"))
            if after:
                stmt = stmt.where(AgentTagRow.tag > after)
            if limit:
                stmt = stmt.limit(limit)
            return [t for (t,) in (await s.execute(stmt)).all()]


