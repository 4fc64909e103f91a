"""Postgres archival search keeps its plan when the statement is prepared and planned generically.

asyncpg prepares statements; from the sixth run on Postgres may plan one generically, without the
parameters' values. The nearest-vectors statement must still use the HNSW index then (its partial-index
predicate written into the statement) and compute the query vector once.
"""

from __future__ import annotations

import json
import random

import pytest
from sqlalchemy import text

from host.persistence.db import open_database
from host.persistence.models import AgentRow
from host.services.archival_index import PG_EXACT_MAX, Scope, hnsw_settings, pg_vector_statement, vector_candidates
from tests.conftest import PG_ADMIN_URI

pytestmark = [pytest.mark.anyio,
              pytest.mark.skipif(PG_ADMIN_URI is None, reason="Postgres plans; runs in the Postgres pass")]

DIM = 384  # the smallest dimension with an HNSW index


def unit(rnd: random.Random) -> list[float]:
    v = [rnd.gauss(0, 1) for _ in range(DIM)]
    norm = sum(x * x for x in v) ** 0.5
    return [x / norm for x in v]


async def test_a_generic_plan_of_the_vector_search_uses_the_hnsw_index(database_url: str) -> None:
    rnd = random.Random(3)
    vectors = [unit(rnd) for _ in range(PG_EXACT_MAX + 50)]
    async with open_database(database_url) as db:
        async with db.transaction() as s:
            s.add(AgentRow(id="agent-plan", name="plan", llm_config={}, embedding_config={}, tool_rules=[],
                           message_ids=[], tool_exec_env={}))
            await s.flush()
            await s.execute(text("INSERT INTO passages (id, agent_id, text, embedding, embedding_dim, created_at, "
                                 "updated_at) VALUES (:id, 'agent-plan', :t, CAST(:e AS vector), :d, now(), now())"),
                            [{"id": f"passage-{i}", "t": f"text {i}", "e": json.dumps(v), "d": DIM}
                             for i, v in enumerate(vectors)])
            await s.execute(text("ANALYZE passages"))
        scope, query = Scope("agent-plan", ()), vectors[7]

        async with db.transaction() as s:
            await s.execute(text("SET LOCAL plan_cache_mode = force_generic_plan"))
            for setting in hnsw_settings(20):
                await s.execute(text(setting))
            statement = pg_vector_statement(scope, query, 20)
            plan = "\n".join(r[0] for r in (await s.execute(text("EXPLAIN " + statement.text),
                                                          statement.compile().params)).all())
        assert "ix_passages_embedding_hnsw_384" in plan and "Seq Scan" not in plan, plan
        assert "InitPlan" in plan, "the query vector is computed once"

        async with db.session() as s:  # and the search finds the nearest, run after run
            for _ in range(8):
                found = await vector_candidates(s, True, scope, query, 5)
                assert found[0] == (await s.execute(text("SELECT seq FROM passages WHERE id = 'passage-7'"))).scalar()
