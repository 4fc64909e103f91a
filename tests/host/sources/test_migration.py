"""Migration 0002 upgrades a 0001 database in place: existing passages become searchable through the new
full-text and vector indexes, and the indexes follow later inserts, updates and deletes."""

from __future__ import annotations

import struct

import pytest
from sqlalchemy import text

from host.persistence.db import create_engine, migrate
from host.services.archival_index import Scope, text_candidates, vector_candidates
from tests.conftest import test_database_uri as fresh_database_uri
from tests.support.scripted_llm import embed_text

pytestmark = pytest.mark.anyio
TEXTS = ["The heron waits in the shallow river.", "Invoices are due on the first of the month.",
         "Herons and egrets hunt fish at dawn."]


def _upgrade_to(sync_conn, revision: str) -> None:  # type: ignore[no-untyped-def]
    from alembic import command
    from alembic.config import Config

    from host.persistence import db

    cfg = Config()
    cfg.set_main_option("script_location", str(db._MIGRATIONS))
    cfg.attributes["connection"] = sync_conn
    command.upgrade(cfg, revision)


def _vector_literal(vector: list[float], postgres: bool) -> object:
    return "[" + ",".join(map(repr, vector)) + "]" if postgres else struct.pack(f"{len(vector)}f", *vector)


@pytest.fixture
def database_url(tmp_path) -> str:
    return fresh_database_uri() or f"sqlite+aiosqlite:///{tmp_path / 'old.db'}"


async def test_a_0001_database_is_upgraded_with_its_passages_indexed(database_url):
    url = database_url
    url = url.replace("postgresql://", "postgresql+asyncpg://", 1)
    engine = create_engine(url)
    postgres = engine.dialect.name == "postgresql"
    try:
        async with engine.begin() as conn:
            if postgres:
                await conn.execute(text("CREATE EXTENSION IF NOT EXISTS vector"))
            await conn.run_sync(_upgrade_to, "0001")
            await conn.execute(text(
                "INSERT INTO agents (id, name, agent_type, system, llm_config, embedding_config, tool_rules, "
                "message_ids, tool_exec_env, message_buffer_autoclear, created_at, updated_at) VALUES ('agent-1', "
                "'a', 'memgpt_agent', '', '{}', '{}', '[]', '[]', '{}', false, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"))
            for i, body in enumerate(TEXTS):
                await conn.execute(text(
                    "INSERT INTO passages (id, agent_id, text, embedding, embedding_dim, created_at, updated_at) "
                    "VALUES (:id, 'agent-1', :t, " + ("CAST(:e AS vector)" if postgres else ":e") +
                    ", 1536, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"),
                    {"id": f"passage-{i}", "t": body, "e": _vector_literal(embed_text(body, 1536), postgres)})

        await migrate(engine)  # 0001 -> head

        scope = Scope("agent-1", ())
        async with engine.connect() as conn:
            from sqlalchemy.ext.asyncio import AsyncSession

            async with AsyncSession(bind=conn) as s:
                assert await s.scalar(text("SELECT count(*) FROM passages")) == 3
                found = await text_candidates(s, postgres, scope, "heron", 10)
                assert len(found) == 2  # stemmed: heron, herons
                near = await vector_candidates(s, postgres, scope, embed_text(TEXTS[1], 1536), 3)
                first = await s.scalar(text("SELECT text FROM passages WHERE seq = :s"), {"s": near[0]})
                assert first == TEXTS[1]

        async with engine.begin() as conn:
            await conn.execute(text("UPDATE passages SET text = 'Nothing about birds' WHERE id = 'passage-0'"))
            await conn.execute(text("DELETE FROM passages WHERE id = 'passage-2'"))
        async with engine.connect() as conn:
            async with AsyncSession(bind=conn) as s:
                assert await text_candidates(s, postgres, scope, "heron", 10) == []
                near = await vector_candidates(s, postgres, scope, embed_text(TEXTS[2], 1536), 10)
                assert len(near) == 2
    finally:
        await engine.dispose()
