"""Candidate queries for archival search, one per index (created by migration 0002).

Each returns passage ``seq`` numbers, best first, restricted to a ``Scope`` (the agent's own passages and
those of its attached sources).

* Vectors, SQLite: ``passages_vec_<dim>`` (sqlite-vec ``vec0``, binary-quantised, partitioned by owner) gives
  ``OVERSAMPLE`` x candidates by Hamming distance; they are re-ranked by exact cosine distance on
  ``passages.embedding``. Other dimensions: exact brute force with ``vec_distance_cosine``.
* Vectors, Postgres: scopes of up to ``PG_EXACT_MAX`` vectors are ranked exactly; larger ones use the HNSW
  expression index ``(embedding::vector(<dim>))`` for ``embedding_dim = <dim>``, with pgvector's iterative
  scan so that scope filtering still fills the page. Other dimensions: exact scan.
* Full text: FTS5 ``passages_fts`` (BM25, porter stemming) on SQLite; ``to_tsvector('english', text)``
  (GIN) ranked by ``ts_rank_cd`` on Postgres. Query words are OR-ed: any word may match.
"""

from __future__ import annotations

import re
import struct
from dataclasses import dataclass

from sqlalchemy import TextClause, bindparam, text
from sqlalchemy.ext.asyncio import AsyncSession

# Keep in step with migration 0002.
SQLITE_VEC_DIMS = frozenset({256, 384, 512, 768, 1024, 1536, 3072})
PG_HNSW_DIMS = frozenset({384, 768, 1024, 1536})
OVERSAMPLE = 8
MIN_CANDIDATES = 100
VEC0_MAX_K = 4096
PG_EXACT_MAX = 2000  # scopes up to this many vectors are searched exactly on Postgres
_WORD = re.compile(r"\w+", re.UNICODE)


@dataclass(frozen=True)
class Scope:
    agent_id: str
    source_ids: tuple[str, ...]
    archive_ids: tuple[str, ...] = ()  # archives attached to the agent (1.x); "" agent: archives only

    @property
    def owners(self) -> list[str]:
        return [f"agent:{self.agent_id}"] + [f"source:{s}" for s in self.source_ids]

    def sql(self, alias: str = "passages") -> str:
        parts = [f"{alias}.agent_id = :scope_agent"]
        if self.source_ids:
            parts.append(f"{alias}.source_id IN :scope_sources")
        if self.archive_ids:
            parts.append(f"{alias}.archive_id IN :scope_archives")
        return parts[0] if len(parts) == 1 else "(" + " OR ".join(parts) + ")"

    def bind(self, stmt):
        stmt = stmt.bindparams(scope_agent=self.agent_id)
        if self.source_ids:
            stmt = stmt.bindparams(bindparam("scope_sources", value=list(self.source_ids), expanding=True))
        if self.archive_ids:
            stmt = stmt.bindparams(bindparam("scope_archives", value=list(self.archive_ids), expanding=True))
        return stmt


def query_terms(query: str, limit: int = 16) -> list[str]:
    seen: list[str] = []
    for word in _WORD.findall(query.lower()):
        if len(word) > 1 and word not in seen:
            seen.append(word)
    return seen[:limit]


def _pg_vector(vector: list[float]) -> str:
    return "[" + ",".join(repr(float(x)) for x in vector) + "]"


async def vector_candidates(s: AsyncSession, postgres: bool, scope: Scope, vector: list[float],
                            limit: int) -> list[int]:
    dim = len(vector)
    if postgres:
        return await _pg_vectors(s, scope, vector, limit)
    blob = struct.pack(f"{dim}f", *vector)
    if dim in SQLITE_VEC_DIMS:
        k = min(VEC0_MAX_K, max(MIN_CANDIDATES, limit * OVERSAMPLE))
        coarse = text(f"SELECT rowid FROM passages_vec_{dim} WHERE embedding MATCH vec_quantize_binary(:q) "
                      f"AND k = :k AND owner IN :owners").bindparams(
            bindparam("owners", value=scope.owners, expanding=True), q=blob, k=k)
        seqs = [int(r[0]) for r in (await s.execute(coarse)).all()]
        if not seqs:
            return []
        fine = text("SELECT seq FROM passages WHERE seq IN :seqs "
                    "ORDER BY vec_distance_cosine(embedding, :q) LIMIT :n").bindparams(
            bindparam("seqs", value=seqs, expanding=True), q=blob, n=limit)
        return [int(r[0]) for r in (await s.execute(fine)).all()]
    exact = scope.bind(text(f"SELECT seq FROM passages WHERE {scope.sql()} AND embedding_dim = :dim "
                            f"ORDER BY vec_distance_cosine(embedding, :q) LIMIT :n").bindparams(q=blob, dim=dim,
                                                                                               n=limit))
    return [int(r[0]) for r in (await s.execute(exact)).all()]


def pg_vector_statement(scope: Scope, vector: list[float], limit: int) -> TextClause:
    """The Postgres nearest-vectors statement (seq, distance). The dimension is written into it, not bound:
    the HNSW indexes are partial (``WHERE embedding_dim = <dim>``), and a generic plan (a prepared
    statement from its sixth run on) cannot prove that predicate from a parameter. The query vector is an
    InitPlan, computed once: as a bare cast of the parameter, a generic plan parsed its text again for
    every distance (at 10k passages: 300 ms a search instead of 20, measured)."""
    dim = len(vector)
    distance = "passages.embedding <=> (SELECT CAST(:q AS vector))"
    if dim in PG_HNSW_DIMS:
        distance = f"(passages.embedding::vector({dim})) <=> (SELECT CAST(:q AS vector({dim})))"
    return scope.bind(text(f"SELECT seq, {distance} AS d FROM passages WHERE embedding_dim = {dim} AND "
                           f"{scope.sql()} ORDER BY {distance} LIMIT :n").bindparams(q=_pg_vector(vector), n=limit))


async def _pg_vectors(s: AsyncSession, scope: Scope, vector: list[float], limit: int) -> list[int]:
    dim = len(vector)
    if dim in PG_HNSW_DIMS:
        count = scope.bind(text(f"SELECT count(*) FROM (SELECT 1 FROM passages WHERE {scope.sql()} AND "
                                f"embedding_dim = {dim} LIMIT :cap) AS t").bindparams(cap=PG_EXACT_MAX + 1))
        if int((await s.execute(count)).scalar_one()) > PG_EXACT_MAX:
            for setting in hnsw_settings(limit):
                await s.execute(text(setting))
    rows = (await s.execute(pg_vector_statement(scope, vector, limit))).all()
    await s.rollback()  # end the transaction, and with it the SET LOCALs
    return [int(r[0]) for r in sorted(rows, key=lambda r: float(r[1]))]  # relaxed order: re-sort


def hnsw_settings(limit: int) -> list[str]:
    """For a scope too large to rank exactly. The planner underrates the cost of exact distances over
    TOASTed vectors and would scan and sort; without sorting, the ordered HNSW scan is its only plan.
    Iterative scan keeps going until enough rows pass the scope filter."""
    return ["SET LOCAL enable_sort = off", "SET LOCAL hnsw.iterative_scan = relaxed_order",
            f"SET LOCAL hnsw.ef_search = {max(40, min(1000, limit * 2))}"]


async def text_candidates(s: AsyncSession, postgres: bool, scope: Scope, query: str, limit: int) -> list[int]:
    terms = query_terms(query)
    if not terms:
        return []
    if postgres:
        tsq = " | ".join(terms)
        doc = "to_tsvector('english', passages.text)"
        stmt = text(f"SELECT seq FROM passages WHERE {doc} @@ to_tsquery('english', :tsq) AND {scope.sql()} "
                    f"ORDER BY ts_rank_cd({doc}, to_tsquery('english', :tsq)) DESC, seq DESC LIMIT :n")
        stmt = scope.bind(stmt.bindparams(tsq=tsq, n=limit))
    else:
        match = " OR ".join(f'"{t}"' for t in terms)
        stmt = scope.bind(text(f"SELECT passages.seq FROM passages_fts JOIN passages ON passages.seq = "
                               f"passages_fts.rowid WHERE passages_fts MATCH :m AND {scope.sql()} "
                               f"ORDER BY bm25(passages_fts), passages.seq DESC LIMIT :n").bindparams(m=match, n=limit))
    return [int(r[0]) for r in (await s.execute(stmt)).all()]


async def substring_candidates(s: AsyncSession, scope: Scope, query: str, limit: int) -> list[int]:
    """Last resort for text-only search: passages containing any query word as a substring."""
    terms = query_terms(query, 8)
    if not terms:
        return []
    clauses = " OR ".join(f"lower(passages.text) LIKE :t{i}" for i in range(len(terms)))
    stmt = text(f"SELECT seq FROM passages WHERE {scope.sql()} AND ({clauses}) ORDER BY seq DESC LIMIT :n")
    stmt = scope.bind(stmt.bindparams(n=limit, **{f"t{i}": f"%{t}%" for i, t in enumerate(terms)}))
    return [int(r[0]) for r in (await s.execute(stmt)).all()]
