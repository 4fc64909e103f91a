"""Migration 0013 on a 0012 database with rows: OAuth grants become their owner's (a grant whose URL a
database server uses goes to the default organization, which owned every database server; any other stays the
config-file servers', NULL); tool and source names become unique per organization, and on SQLite, where the
two tables are rebuilt, every row and every agent's link to them is kept."""

from __future__ import annotations

import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError

from host.ids import DEFAULT_ORG_ID
from host.persistence.db import create_engine, migrate

pytestmark = pytest.mark.anyio
NOW = "CURRENT_TIMESTAMP"


def _upgrade_to(sync_conn, revision: str) -> None:  # type: ignore[no-untyped-def]
    from alembic import command
    from alembic.config import Config

    from host.persistence import db

    cfg = Config()
    cfg.set_main_option("script_location", str(db._MIGRATIONS))
    cfg.attributes["connection"] = sync_conn
    command.upgrade(cfg, revision)


async def test_grants_of_a_0012_database_go_to_their_servers_organization(database_url: str) -> None:
    engine = create_engine(database_url)
    try:
        async with engine.begin() as conn:
            if engine.dialect.name == "postgresql":
                await conn.execute(text("CREATE EXTENSION IF NOT EXISTS vector"))
            await conn.run_sync(_upgrade_to, "0012")
            await conn.execute(text(
                "INSERT INTO mcp_servers (id, server_name, server_type, config, organization_id, created_at, "
                f"updated_at) VALUES ('mcp_server-1', 'api', 'streamable_http', :config, :org, {NOW}, {NOW})"),
                {"config": '{"name": "api", "transport": "streamable_http", "url": "http://db.example/mcp"}',
                 "org": DEFAULT_ORG_ID})
            for grant_id, url in (("g-db", "http://db.example/mcp"), ("g-file", "http://file.example/mcp")):
                await conn.execute(text("INSERT INTO mcp_oauth_grants (id, server_url, grant_enc, created_at, "
                                        f"updated_at) VALUES (:id, :url, 'sealed', {NOW}, {NOW})"),
                                   {"id": grant_id, "url": url})

        await migrate(engine)  # 0012 -> head

        async with engine.connect() as conn:
            owners = dict((await conn.execute(text("SELECT id, organization_id FROM mcp_oauth_grants"))).all())
        assert owners == {"g-db": DEFAULT_ORG_ID, "g-file": None}
    finally:
        await engine.dispose()


async def test_names_become_unique_per_organization_and_agents_keep_their_tools_and_sources(database_url: str) -> None:
    engine = create_engine(database_url)
    try:
        async with engine.begin() as conn:
            if engine.dialect.name == "postgresql":
                await conn.execute(text("CREATE EXTENSION IF NOT EXISTS vector"))
            await conn.run_sync(_upgrade_to, "0012")
            await conn.execute(text(
                "INSERT INTO agents (id, name, agent_type, system, llm_config, embedding_config, tool_rules, "
                "message_ids, tool_exec_env, message_buffer_autoclear, created_at, updated_at) VALUES ('agent-1', "
                f"'a', 'memgpt_agent', '', '{{}}', '{{}}', '[]', '[]', '{{}}', false, {NOW}, {NOW})"))
            await conn.execute(text(
                "INSERT INTO tools (id, name, tool_type, source_type, json_schema, return_char_limit, tags, "
                f"organization_id, created_at, updated_at) VALUES ('tool-1', 'echo', 'custom', 'python', '{{}}', "
                f"100, '[]', :org, {NOW}, {NOW})"), {"org": DEFAULT_ORG_ID})
            await conn.execute(text(
                "INSERT INTO sources (id, name, embedding_config, created_at, updated_at) "
                f"VALUES ('source-1', 'docs', '{{}}', {NOW}, {NOW})"))
            await conn.execute(text("INSERT INTO agent_tools (agent_id, tool_id, position) VALUES ('agent-1', 'tool-1', 0)"))
            await conn.execute(text("INSERT INTO agent_sources (agent_id, source_id) VALUES ('agent-1', 'source-1')"))

        await migrate(engine)  # 0012 -> head

        async with engine.begin() as conn:
            assert (await conn.execute(text("SELECT tool_id FROM agent_tools"))).scalars().all() == ["tool-1"]
            assert (await conn.execute(text("SELECT source_id FROM agent_sources"))).scalars().all() == ["source-1"]
            assert (await conn.execute(text("SELECT name, organization_id FROM tools WHERE id = 'tool-1'"))
                    ).one() == ("echo", DEFAULT_ORG_ID)
            # Another organization may take both names now.
            await conn.execute(text(
                "INSERT INTO tools (id, name, tool_type, source_type, json_schema, return_char_limit, tags, "
                f"organization_id, created_at, updated_at) VALUES ('tool-2', 'echo', 'custom', 'python', '{{}}', "
                f"100, '[]', 'org-other', {NOW}, {NOW})"))
            await conn.execute(text(
                "INSERT INTO sources (id, name, embedding_config, organization_id, created_at, updated_at) "
                f"VALUES ('source-2', 'docs', '{{}}', 'org-other', {NOW}, {NOW})"))
        for table, columns in (("tools", "(id, name, tool_type, source_type, json_schema, return_char_limit, tags, "
                                         "organization_id, created_at, updated_at) VALUES ('tool-3', 'echo', "
                                         "'custom', 'python', '{}', 100, '[]', 'org-other'"),
                               ("sources", "(id, name, embedding_config, organization_id, created_at, updated_at) "
                                           "VALUES ('source-3', 'docs', '{}', 'org-other'")):
            with pytest.raises(IntegrityError):  # but not twice in one organization
                async with engine.begin() as conn:
                    await conn.execute(text(f"INSERT INTO {table} {columns}, {NOW}, {NOW})"))
    finally:
        await engine.dispose()
