"""Archives: named passage stores (Letta 1.x), kept in the same ``passages`` table as agents' archival
memory (``passages.archive_id``), searched by the same hybrid search, attachable to many agents."""

from __future__ import annotations

from typing import Any

from sqlalchemy import delete, select

from host.errors import NotFoundError
from host.ids import new_id, utcnow
from host.persistence.convert import passage_out
from host.persistence.models import AgentRow, ArchiveAgentRow, ArchiveRow, PassageRow
from host.persistence.paging import paginate
from host.schemas.sources import SourceCreate
from host.schemas.v1.archives import Archive, ArchiveCreate, ArchivePassageCreate, ArchiveUpdate
from host.services.archival import ArchivalService
from host.services.sources import SourceService


def archive_out(row: ArchiveRow) -> Archive:
    return Archive(id=row.id, name=row.name, description=row.description, embedding_config=row.embedding_config,
                   metadata=row.metadata_, created_at=row.created_at, updated_at=row.updated_at,
                   organization_id=row.organization_id)


def archive_passage_out(row: PassageRow) -> dict[str, Any]:
    return {**passage_out(row).model_dump(mode="json", by_alias=True), "archive_id": row.archive_id}


class ArchiveService:
    def __init__(self, db: Any, registry: Any, archival: ArchivalService, byok: Any = None) -> None:
        self.db = db
        self.registry = registry
        self.archival = archival
        self.byok = byok  # the acting organization's own embedding models (host.services.byok)

    @staticmethod
    async def _row(s: Any, archive_id: str) -> ArchiveRow:
        row = await s.get(ArchiveRow, archive_id)
        if row is None:
            raise NotFoundError.for_id("Archive", archive_id)
        return row

    async def create(self, req: ArchiveCreate) -> Archive:
        config = await SourceService(self.db, self.registry, self.byok)._embedding_config(SourceCreate(
            name=req.name, embedding=req.embedding, embedding_config=req.embedding_config,
            embedding_chunk_size=req.embedding_chunk_size))
        now = utcnow()
        row = ArchiveRow(id=new_id("archive"), name=req.name, description=req.description, embedding_config=config,
                         metadata_=None, created_at=now, updated_at=now)
        async with self.db.transaction() as s:
            s.add(row)
        return archive_out(row)

    async def get(self, archive_id: str) -> Archive:
        async with self.db.session() as s:
            return archive_out(await self._row(s, archive_id))

    async def list(self, *, name: str | None, agent_id: str | None, ascending: bool, after: str | None,
                   before: str | None, limit: int | None) -> list[Archive]:
        async with self.db.session() as s:
            stmt = select(ArchiveRow)
            if name:
                stmt = stmt.where(ArchiveRow.name == name)
            if agent_id:
                stmt = stmt.join(ArchiveAgentRow, ArchiveAgentRow.archive_id == ArchiveRow.id).where(
                    ArchiveAgentRow.agent_id == agent_id)
            rows = await paginate(s, stmt, ArchiveRow, before=before, after=after, limit=limit, ascending=ascending)
            return [archive_out(r) for r in rows]

    async def modify(self, archive_id: str, req: ArchiveUpdate) -> Archive:
        async with self.db.transaction() as s:
            row = await self._row(s, archive_id)
            if req.name is not None:
                row.name = req.name
            if req.description is not None:
                row.description = req.description
            row.updated_at = utcnow()
            return archive_out(row)

    async def delete(self, archive_id: str) -> None:
        async with self.db.transaction() as s:
            row = await self._row(s, archive_id)
            await s.execute(delete(PassageRow).where(PassageRow.archive_id == archive_id))
            await s.delete(row)

    async def add_passages(self, archive_id: str, specs: list[ArchivePassageCreate]) -> list[dict[str, Any]]:
        async with self.db.session() as s:
            config = dict((await self._row(s, archive_id)).embedding_config or {})
        vectors = await self.archival.embed(config, [p.text for p in specs])
        rows = []
        async with self.db.transaction() as s:
            await self._row(s, archive_id)
            for i, spec in enumerate(specs):
                vector = vectors[i] if vectors else None
                rows.append(PassageRow(id=new_id("passage"), archive_id=archive_id, text=spec.text, embedding=vector,
                                       embedding_dim=len(vector) if vector else None, embedding_config=config,
                                       tags=spec.tags, metadata_=spec.metadata or {},
                                       created_at=spec.created_at or utcnow()))
            s.add_all(rows)
        return [archive_passage_out(r) for r in rows]

    async def delete_passage(self, archive_id: str, passage_id: str) -> None:
        async with self.db.transaction() as s:
            await self._row(s, archive_id)
            row = (await s.execute(select(PassageRow).where(PassageRow.id == passage_id,
                                                            PassageRow.archive_id == archive_id))).scalar_one_or_none()
            if row is None:
                raise NotFoundError(f"Passage with ID {passage_id} not found in archive {archive_id}")
            await s.delete(row)

    async def agent_ids(self, archive_id: str) -> list[str]:
        async with self.db.session() as s:
            await self._row(s, archive_id)
            return list((await s.execute(select(ArchiveAgentRow.agent_id).where(
                ArchiveAgentRow.archive_id == archive_id))).scalars())

    async def attach(self, agent_id: str, archive_id: str, attached: bool) -> None:
        async with self.db.transaction() as s:
            if await s.get(AgentRow, agent_id) is None:
                raise NotFoundError.for_id("Agent", agent_id)
            await self._row(s, archive_id)
            link = await s.get(ArchiveAgentRow, (archive_id, agent_id))
            if attached and link is None:
                s.add(ArchiveAgentRow(archive_id=archive_id, agent_id=agent_id))
            elif not attached and link is not None:
                await s.delete(link)

    async def passage_rows(self, ids: list[str]) -> dict[str, dict[str, Any]]:
        async with self.db.session() as s:
            rows = (await s.execute(select(PassageRow).where(PassageRow.id.in_(ids)))).scalars()
            return {r.id: archive_passage_out(r) for r in rows}
