"""Migration 0013 on a 0012 database with rows: OAuth grants become their owner's (a grant whose URL a
database server uses goes to the default organization, which owned every database server; any other stays the
config-file servers', NULL)."""

from __future__ import annotations

import pytest
from sqlalchemy import text

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
