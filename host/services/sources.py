"""Data sources: create, list, modify, delete; attach to and detach from agents; their passages.

A source's passages (``passages.source_id``, no ``agent_id``) are searched by every agent the source is
attached to (``host.services.archival``). Agent and source must share an embedding model, else their
vectors are not comparable and the attach is refused. Files and ingestion jobs: ``host.services.source_files``
and ``host.services.jobs``.
"""

from __future__ import annotations

import logging
from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from host.domain.actor import current_actor
from host.errors import ConflictError, InvalidRequestError, NotFoundError
from host.ids import new_id, utcnow
from host.llm.providers import EmbeddingConfig, ProviderError
from host.llm.registry import ProviderRegistry
from host.persistence.convert import passage_out
from host.persistence.db import Database
from host.persistence.models import AgentRow, AgentSourceRow, FileRow, JobRow, PassageRow, SourceRow, UploadBlobRow
from host.persistence.paging import paginate
from host.persistence.tenancy import same_namespace
from host.schemas.passages import Passage
from host.schemas.sources import Source, SourceCreate, SourceUpdate
from host.services.archival import embedding_enabled
from host.services.byok import ByokService

logger = logging.getLogger(__name__)

_TEXT_ONLY = {"embedding_endpoint_type": "openai", "embedding_endpoint": None, "embedding_model": "none",
              "embedding_dim": 0, "embedding_chunk_size": 300, "handle": None, "batch_size": 32,
              "azure_endpoint": None, "azure_version": None, "azure_deployment": None}


def source_out(row: SourceRow) -> Source:
    return Source(id=row.id, name=row.name, description=row.description, instructions=row.instructions,
                  metadata=row.metadata_, embedding_config=row.embedding_config, created_at=row.created_at,
                  updated_at=row.updated_at, organization_id=row.organization_id)


def embedding_label(config: dict[str, Any]) -> str:
    if not embedding_enabled(config):
        return "no embedding model (full-text search only)"
    name = config.get("handle") or f"{config.get('embedding_endpoint_type')}/{config.get('embedding_model')}"
    return f"{name}, {config.get('embedding_dim')} dimensions"


def same_embedding_model(a: dict[str, Any], b: dict[str, Any]) -> bool:
    if not embedding_enabled(a) or not embedding_enabled(b):
        return not embedding_enabled(a) and not embedding_enabled(b)
    key = ("embedding_endpoint_type", "embedding_model", "embedding_dim")
    return all(str(a.get(k)) == str(b.get(k)) for k in key)


class SourceService:
    def __init__(self, db: Database, registry: ProviderRegistry, byok: ByokService | None = None) -> None:
        self.db = db
        self.registry = registry
        self.byok = byok  # the acting organization's own providers: their embedding models too

    async def _embedding_config(self, req: SourceCreate) -> dict[str, Any]:
        if req.embedding:
            await self.registry.refresh()
            try:
                out = self.registry.resolve_embedding(req.embedding).model_dump(mode="json")
            except ProviderError as exc:
                own = await self.byok.resolve_embedding(current_actor(), req.embedding) if self.byok else None
                if own is None:
                    raise InvalidRequestError(str(exc)) from None
                out = own.model_dump(mode="json")
        elif req.embedding_config:
            try:
                out = {**req.embedding_config,
                       **EmbeddingConfig.model_validate(req.embedding_config).model_dump(mode="json")}
            except ValueError as exc:
                raise InvalidRequestError(f"embedding_config is not a valid EmbeddingConfig: {exc}") from None
        else:
            models = await self.registry.list_embedding_models()
            out = models[0].model_dump(mode="json") if models else dict(_TEXT_ONLY)
        if req.embedding_chunk_size:
            out["embedding_chunk_size"] = req.embedding_chunk_size
        return out

    @staticmethod
    async def row(s: AsyncSession, source_id: str) -> SourceRow:
        row = await s.get(SourceRow, source_id)
        if row is None:
            raise NotFoundError.for_id("Source", source_id)
        return row

    async def create(self, req: SourceCreate) -> Source:
        config = await self._embedding_config(req)
        row = SourceRow(id=new_id("source"), name=req.name, description=req.description,
                        instructions=req.instructions, metadata_=req.metadata, embedding_config=config)
        try:
            async with self.db.transaction() as s:
                if (await s.execute(select(SourceRow.id).where(SourceRow.name == req.name,
                                                               same_namespace(SourceRow)))).first():
                    raise ConflictError(f"A source named {req.name!r} already exists: pick another name")
                s.add(row)
        except IntegrityError:
            raise ConflictError(f"A source named {req.name!r} already exists: pick another name") from None
        return source_out(row)

    async def get(self, source_id: str) -> Source:
        async with self.db.session() as s:
            return source_out(await self.row(s, source_id))

    async def id_by_name(self, name: str) -> str:
        async with self.db.session() as s:
            found = (await s.execute(select(SourceRow.id).where(SourceRow.name == name, same_namespace(SourceRow))
                                     )).scalar_one_or_none()
        if found is None:
            raise NotFoundError(f"Source with name {name!r} not found")
        return str(found)

    async def list(self) -> list[Source]:
        async with self.db.session() as s:
            rows = (await s.execute(select(SourceRow).order_by(SourceRow.created_at, SourceRow.id))).scalars()
            return [source_out(r) for r in rows]

    async def count(self) -> int:
        async with self.db.session() as s:
            return int((await s.execute(select(func.count()).select_from(SourceRow))).scalar_one())

    async def modify(self, source_id: str, update: SourceUpdate) -> Source:
        try:
            async with self.db.transaction() as s:
                row = await self.row(s, source_id)
                if update.name is not None and update.name != row.name:
                    taken = (await s.execute(select(SourceRow.id).where(
                        SourceRow.name == update.name, SourceRow.organization_id == row.organization_id))).first()
                    if taken:
                        raise ConflictError(f"A source named {update.name!r} already exists: pick another name")
                    row.name = update.name
                if update.embedding_config is not None and not same_embedding_model(
                        update.embedding_config, row.embedding_config):
                    has = (await s.execute(select(PassageRow.id).where(PassageRow.source_id == source_id)
                                           .limit(1))).first()
                    if has:
                        raise InvalidRequestError(
                            f"Source {row.name!r} already holds passages embedded with "
                            f"{embedding_label(row.embedding_config)}: create a new source to change the model")
                for field in ("description", "instructions", "embedding_config"):
                    if getattr(update, field) is not None:
                        setattr(row, field, getattr(update, field))
                if update.metadata is not None:
                    row.metadata_ = update.metadata
                row.updated_at = utcnow()
        except IntegrityError:
            raise ConflictError(f"A source named {update.name!r} already exists: pick another name") from None
        return source_out(row)

    async def delete(self, source_id: str) -> list[str]:
        """Delete the source, its files, passages and attachments; cancel its jobs. Returns stored upload paths."""
        async with self.db.transaction() as s:
            await self.row(s, source_id)
            paths = [p for p in (await s.execute(select(FileRow.storage_path).where(
                FileRow.source_id == source_id))).scalars() if p]
            for job in (await s.execute(select(JobRow).where(JobRow.source_id == source_id,
                                                             JobRow.status.in_(("created", "running"))))).scalars():
                job.status, job.completed_at = "cancelled", utcnow()
                job.metadata_ = {**(job.metadata_ or {}), "error": "The source was deleted"}
            await s.execute(delete(PassageRow).where(PassageRow.source_id == source_id))
            await s.execute(delete(UploadBlobRow).where(UploadBlobRow.file_id.in_(
                select(FileRow.id).where(FileRow.source_id == source_id))))
            await s.execute(delete(FileRow).where(FileRow.source_id == source_id))
            await s.execute(delete(AgentSourceRow).where(AgentSourceRow.source_id == source_id))
            await s.execute(delete(SourceRow).where(SourceRow.id == source_id))
        return paths

    async def passages(self, source_id: str, *, after: str | None, before: str | None,
                       limit: int | None) -> list[Passage]:
        async with self.db.session() as s:
            await self.row(s, source_id)
            stmt = select(PassageRow).where(PassageRow.source_id == source_id)
            rows = await paginate(s, stmt, PassageRow, before=before, after=after, limit=limit, ascending=True,
                                  order_col="seq")
            return [passage_out(r) for r in rows]

    async def agent_ids(self, source_id: str) -> list[str]:
        async with self.db.session() as s:
            await self.row(s, source_id)
            return list((await s.execute(select(AgentSourceRow.agent_id)
                                         .where(AgentSourceRow.source_id == source_id))).scalars())

    # ---- agents ------------------------------------------------------------------------------
    async def attach(self, agent_id: str, source_id: str) -> None:
        async with self.db.transaction() as s:
            agent = await s.get(AgentRow, agent_id)
            if agent is None:
                raise NotFoundError.for_id("Agent", agent_id)
            source = await self.row(s, source_id)
            if not same_embedding_model(agent.embedding_config, source.embedding_config):
                raise InvalidRequestError(
                    f"Cannot attach source {source.name!r} to agent {agent.name!r}: the source is embedded with "
                    f"{embedding_label(source.embedding_config)} but the agent uses "
                    f"{embedding_label(agent.embedding_config)}. Create the source with the agent's embedding "
                    f"model (embedding={agent.embedding_config.get('handle')!r}) and upload its files again.")
            if await s.get(AgentSourceRow, (agent_id, source_id)) is None:
                s.add(AgentSourceRow(agent_id=agent_id, source_id=source_id))
                agent.updated_at = utcnow()

    async def detach(self, agent_id: str, source_id: str) -> None:
        async with self.db.transaction() as s:
            agent = await s.get(AgentRow, agent_id)
            if agent is None:
                raise NotFoundError.for_id("Agent", agent_id)
            await self.row(s, source_id)
            link = await s.get(AgentSourceRow, (agent_id, source_id))
            if link is not None:  # detaching a source that is not attached is a no-op, as in Letta
                await s.delete(link)
                agent.updated_at = utcnow()

    async def of_agent(self, agent_id: str) -> list[Source]:
        async with self.db.session() as s:
            if await s.get(AgentRow, agent_id) is None:
                raise NotFoundError.for_id("Agent", agent_id)
            rows = (await s.execute(select(SourceRow).join(AgentSourceRow, AgentSourceRow.source_id == SourceRow.id)
                                    .where(AgentSourceRow.agent_id == agent_id)
                                    .order_by(SourceRow.created_at, SourceRow.id))).scalars()
            return [source_out(r) for r in rows]
