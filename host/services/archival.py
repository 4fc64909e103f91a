"""Archival memory: passages with embeddings, searched by vector similarity fused with text matches.

Vectors: pgvector HNSW on Postgres, sqlite-vec on SQLite; full text: tsvector/GIN on Postgres, FTS5 on
SQLite (indexes and queries: ``host.services.archival_index``). With no embedding provider configured for
the agent, passages are stored without a vector and search is by text. Ranking fuses the result lists with
reciprocal-rank fusion.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from host.errors import NotFoundError, UpstreamError
from host.ids import new_id, utcnow
from host.llm.providers import EmbeddingConfig, ProviderSettings
from host.persistence.byok import settings_for_embedding
from host.persistence.convert import passage_out
from host.persistence.db import Database
from host.persistence.models import AgentRow, AgentSourceRow, ArchiveAgentRow, ArchiveRow, PassageRow
from host.persistence.paging import paginate
from host.persistence.secret_box import SecretBox, SecretBoxError
from host.schemas.passages import Passage, PassageUpdate
from host.services.archival_index import Scope, substring_candidates, text_candidates, vector_candidates

logger = logging.getLogger(__name__)

_RRF_K = 60


@dataclass(frozen=True)
class SearchHit:
    passage: Passage
    score: float


def embedding_enabled(config: dict[str, Any]) -> bool:
    return bool(config.get("handle")) and int(config.get("embedding_dim") or 0) > 0


class ArchivalService:
    def __init__(self, db: Database, providers: ProviderSettings, secrets: SecretBox | None = None) -> None:
        self.db = db
        self.providers = providers
        self.secrets = secrets  # an organization's own embedding provider's key (host.persistence.byok)

    async def embed(self, config: dict[str, Any], texts: list[str]) -> list[list[float]] | None:
        if not embedding_enabled(config):
            return None
        from host import llm

        embedding = EmbeddingConfig.model_validate(config)
        try:
            providers = await settings_for_embedding(self.db, self.secrets, embedding, self.providers)
            return await llm.embed(embedding, texts, providers)
        except SecretBoxError as exc:
            raise UpstreamError(f"Embedding with {config.get('handle')} failed: {exc}") from None
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
                     offset: int = 0, archive_id: str | None = None) -> list[SearchHit]:
        """Hybrid search over the agent's own passages and those of its attached sources and archives
        (or, with ``archive_id`` and an empty ``agent_id``, over one archive).

        Vector and full-text candidates (``host.services.archival_index``) are fused by reciprocal rank.
        """
        async with self.db.session() as s:
            if archive_id is not None and not agent_id:
                archive = await s.get(ArchiveRow, archive_id)
                if archive is None:
                    raise NotFoundError.for_id("Archive", archive_id)
                config = dict(archive.embedding_config or {})
            else:
                config = dict((await self._agent(s, agent_id)).embedding_config)
        vectors = await self.embed(config, [query]) if query.strip() else None
        want = top_k + offset
        pool = want * 4 if tags else want * 2
        async with self.db.session() as s:
            sources = tuple((await s.execute(select(AgentSourceRow.source_id)
                                             .where(AgentSourceRow.agent_id == agent_id))).scalars())
            archives = (archive_id,) if archive_id else tuple((await s.execute(
                select(ArchiveAgentRow.archive_id).where(ArchiveAgentRow.agent_id == agent_id))).scalars())
            scope = Scope(agent_id, sources, archives)
            ranked: dict[int, float] = {}
            lists: list[list[int]] = []
            if vectors:
                lists.append(await vector_candidates(s, self.db.is_postgres, scope, vectors[0], pool))
            lists.append(await text_candidates(s, self.db.is_postgres, scope, query, pool))
            if not vectors and not lists[-1] and query.strip():
                lists.append(await substring_candidates(s, scope, query, pool))
            for seqs in lists:
                for rank, seq in enumerate(seqs):
                    ranked[seq] = ranked.get(seq, 0.0) + 1.0 / (_RRF_K + rank)
            if not query.strip():
                stmt = select(PassageRow.seq).where(self._scope(scope)).order_by(PassageRow.seq.desc()).limit(pool)
                for seq in (await s.execute(stmt)).scalars():
                    ranked.setdefault(int(seq), 0.0)
            rows = {}
            if ranked:
                for row in (await s.execute(select(PassageRow).where(PassageRow.seq.in_(list(ranked))))).scalars():
                    rows[row.seq] = row
        order = sorted((seq for seq in ranked if seq in rows), key=lambda seq: (-ranked[seq], -seq))
        hits = [SearchHit(passage_out(rows[seq], include_embedding=False), ranked[seq]) for seq in order]
        if tags:
            hits = [h for h in hits if set(tags) & set(h.passage.tags or [])]
        return hits[offset:offset + top_k]

    @staticmethod
    def _scope(scope: Scope) -> Any:
        clauses = [PassageRow.agent_id == scope.agent_id]
        if scope.source_ids:
            clauses.append(PassageRow.source_id.in_(scope.source_ids))
        if scope.archive_ids:
            clauses.append(PassageRow.archive_id.in_(scope.archive_ids))
        return or_(*clauses)
