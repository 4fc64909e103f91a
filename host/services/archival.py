"""Archival memory: passages with embeddings, searched by vector similarity fused with text matches.

Vectors: pgvector's cosine distance on Postgres, sqlite-vec's ``vec_distance_cosine`` on SQLite. With no
embedding provider configured for the agent, passages are stored without a vector and search is by text.
Ranking fuses the two result lists with reciprocal-rank fusion.
"""

from __future__ import annotations

import logging
import struct
from dataclasses import dataclass
from typing import Any

from sqlalchemy import case, func, or_, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from host.errors import NotFoundError, UpstreamError
from host.ids import new_id, utcnow
from host.persistence.convert import passage_out
from host.persistence.db import Database
from host.persistence.models import AgentRow, AgentSourceRow, PassageRow
from host.persistence.paging import paginate
from host.providers import EmbeddingConfig, ProviderSettings
from host.schemas.passages import Passage, PassageUpdate

logger = logging.getLogger(__name__)

_RRF_K = 60


@dataclass(frozen=True)
class SearchHit:
    passage: Passage
    score: float


def embedding_enabled(config: dict[str, Any]) -> bool:
    return bool(config.get("handle")) and int(config.get("embedding_dim") or 0) > 0


class ArchivalService:
    def __init__(self, db: Database, providers: ProviderSettings) -> None:
        self.db = db
        self.providers = providers

    async def embed(self, config: dict[str, Any], texts: list[str]) -> list[list[float]] | None:
        if not embedding_enabled(config):
            return None
        from host.agent import llm

        try:
            return await llm.embed(EmbeddingConfig.model_validate(config), texts, self.providers)
        except llm.LlmError as exc:
            raise UpstreamError(f"Embedding with {config.get('handle')} failed: {exc}") from None

    async def _agent(self, s: AsyncSession, agent_id: str) -> AgentRow:
        agent = await s.get(AgentRow, agent_id)
        if agent is None:
            raise NotFoundError.for_id("Agent", agent_id)
        return agent

    async def insert(self, agent_id: str, text_value: str, tags: list[str] | None = None) -> list[Passage]:
        async with self.db.session() as s:
            agent = await self._agent(s, agent_id)
            config = dict(agent.embedding_config)
        vectors = await self.embed(config, [text_value])
        async with self.db.transaction() as s:
            await self._agent(s, agent_id)
            row = PassageRow(id=new_id("passage"), agent_id=agent_id, text=text_value,
                             embedding=vectors[0] if vectors else None,
                             embedding_dim=len(vectors[0]) if vectors else None,
                             embedding_config=config, tags=tags, metadata_={}, created_at=utcnow())
            s.add(row)
        return [passage_out(row)]

    async def list(self, agent_id: str, *, after: str | None = None, before: str | None = None,
                   limit: int | None = 100, search: str | None = None, ascending: bool = True) -> list[Passage]:
        async with self.db.session() as s:
            await self._agent(s, agent_id)
            stmt = select(PassageRow).where(PassageRow.agent_id == agent_id)
            if search:
                stmt = stmt.where(PassageRow.text.ilike(f"%{search}%"))
            rows = await paginate(s, stmt, PassageRow, before=before, after=after, limit=limit, ascending=ascending)
            return [passage_out(r) for r in rows]

    async def count(self, agent_id: str) -> int:
        async with self.db.session() as s:
            return int((await s.execute(select(func.count()).select_from(PassageRow)
                                        .where(PassageRow.agent_id == agent_id))).scalar_one())

    async def _passage(self, s: AsyncSession, agent_id: str, memory_id: str) -> PassageRow:
        row = (await s.execute(select(PassageRow).where(PassageRow.id == memory_id,
                                                        PassageRow.agent_id == agent_id))).scalar_one_or_none()
        if row is None:
            raise NotFoundError(f"Passage with ID {memory_id} not found for agent {agent_id}")
        return row

    async def modify(self, agent_id: str, memory_id: str, update: PassageUpdate) -> list[Passage]:
        async with self.db.session() as s:
            await self._agent(s, agent_id)
            row = await self._passage(s, agent_id, memory_id)
            config = dict(row.embedding_config or {})
        vectors = await self.embed(config, [update.text]) if update.text is not None else None
        async with self.db.transaction() as s:
            row = await self._passage(s, agent_id, memory_id)
            if update.text is not None:
                row.text = update.text
                if vectors:
                    row.embedding, row.embedding_dim = vectors[0], len(vectors[0])
            if update.metadata is not None:
                row.metadata_ = update.metadata
            if update.tags is not None:
                row.tags = update.tags
            row.updated_at = utcnow()
        return [passage_out(row)]

    async def delete(self, agent_id: str, memory_id: str) -> None:
        async with self.db.transaction() as s:
            await self._agent(s, agent_id)
            await s.delete(await self._passage(s, agent_id, memory_id))

    async def search(self, agent_id: str, query: str, *, top_k: int = 10, tags: list[str] | None = None,
                     offset: int = 0) -> list[SearchHit]:
        """Hybrid search over the agent's own passages and those of its attached sources."""
        async with self.db.session() as s:
            agent = await self._agent(s, agent_id)
            config = dict(agent.embedding_config)
        vectors = await self.embed(config, [query]) if query.strip() else None
        want = top_k + offset
        async with self.db.session() as s:
            scope = or_(PassageRow.agent_id == agent_id, PassageRow.source_id.in_(
                select(AgentSourceRow.source_id).where(AgentSourceRow.agent_id == agent_id)))
            ranked: dict[str, float] = {}
            rows: dict[str, PassageRow] = {}
            if vectors:
                for rank, row in enumerate(await self._vector_hits(s, scope, vectors[0], want * 2)):
                    rows[row.id] = row
                    ranked[row.id] = ranked.get(row.id, 0.0) + 1.0 / (_RRF_K + rank)
            for rank, row in enumerate(await self._text_hits(s, scope, query, want * 2)):
                rows[row.id] = row
                ranked[row.id] = ranked.get(row.id, 0.0) + 1.0 / (_RRF_K + rank)
            if not query.strip():
                for row in (await s.execute(select(PassageRow).where(scope).order_by(PassageRow.seq.desc())
                                            .limit(want))).scalars():
                    rows[row.id] = row
                    ranked.setdefault(row.id, 0.0)
        hits = [SearchHit(passage_out(rows[i], include_embedding=False), score) for i, score in
                sorted(ranked.items(), key=lambda kv: -kv[1])]
        if tags:
            hits = [h for h in hits if set(tags) & set(h.passage.tags or [])]
        return hits[offset:offset + top_k]

    async def _vector_hits(self, s: AsyncSession, scope: Any, vector: list[float], limit: int) -> list[PassageRow]:
        dim = len(vector)
        if self.db.is_postgres:
            literal = "[" + ",".join(repr(float(x)) for x in vector) + "]"
            distance = text("passages.embedding <=> CAST(:qv AS vector)").bindparams(qv=literal)
        else:
            blob = struct.pack(f"{dim}f", *vector)
            distance = func.vec_distance_cosine(PassageRow.embedding, blob)
        stmt = (select(PassageRow).where(scope, PassageRow.embedding_dim == dim)
                .order_by(distance).limit(limit))
        return list((await s.execute(stmt)).scalars())

    async def _text_hits(self, s: AsyncSession, scope: Any, query: str, limit: int) -> list[PassageRow]:
        terms = [t for t in query.lower().split() if len(t) > 2][:8]
        if not terms:
            return []
        matches = [func.lower(PassageRow.text).contains(t) for t in terms]
        score = case((matches[0], 1), else_=0)
        for match in matches[1:]:
            score = score + case((match, 1), else_=0)
        stmt = select(PassageRow).where(scope, or_(*matches)).order_by(score.desc(), PassageRow.seq.desc()).limit(limit)
        return list((await s.execute(stmt)).scalars())
