"""An empty database is created from the migrations rendered to SQL (``host.persistence.fresh``); the
result must be the database the migrations themselves build, and the committed scripts must be what the
migrations render today."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import Connection, inspect, text

from host.persistence import fresh
from host.persistence.db import HEAD_REVISION, _run_alembic, create_engine, migrate
from tests.conftest import test_database_uri as fresh_database_uri

pytestmark = pytest.mark.anyio


@pytest.mark.parametrize("dialect", fresh.DIALECTS)
def test_the_committed_script_is_what_the_migrations_render(dialect: str) -> None:
    committed = (fresh.SCRIPTS / f"{dialect}.sql").read_text()
    assert committed == fresh.render(dialect), "run `python -m host.persistence.fresh` after changing a migration"


def _schema(conn: Connection) -> dict[str, Any]:
    found = inspect(conn)
    tables = {}
    for table in sorted(found.get_table_names()):
        tables[table] = {
            "columns": [(c["name"], str(c["type"]), c["nullable"], str(c.get("default"))) for c in found.get_columns(table)],
            "indexes": sorted((i["name"], tuple(i["column_names"]), bool(i["unique"])) for i in found.get_indexes(table)),
            "pk": found.get_pk_constraint(table)["constrained_columns"],
            "fks": sorted((f["referred_table"], tuple(f["constrained_columns"]), str(f.get("options")))
                          for f in found.get_foreign_keys(table)),
        }
    if conn.dialect.name == "sqlite":
        objects = conn.execute(text("SELECT type, name, tbl_name FROM sqlite_master ORDER BY type, name")).all()
    else:
        objects = conn.execute(text("SELECT 'index', indexname, indexdef FROM pg_indexes WHERE schemaname = 'public' "
                                    "UNION ALL SELECT 'trigger', tgname, tgrelid::regclass::text FROM pg_trigger "
                                    "WHERE NOT tgisinternal ORDER BY 1, 2")).all()
    version = conn.execute(text("SELECT version_num FROM alembic_version")).scalars().all()
    return {"tables": tables, "objects": [tuple(o) for o in objects], "version": version}


@pytest.fixture
def two_urls(tmp_path) -> tuple[str, str]:
    def url(name: str) -> str:
        uri = fresh_database_uri() or f"sqlite+aiosqlite:///{tmp_path / name}"
        return uri.replace("postgresql://", "postgresql+asyncpg://", 1)

    return url("script.db"), url("alembic.db")


async def test_the_script_builds_the_database_the_migrations_build(two_urls: tuple[str, str]) -> None:
    by_script, by_alembic = create_engine(two_urls[0]), create_engine(two_urls[1])
    try:
        await migrate(by_script)
        async with by_alembic.begin() as conn:
            if by_alembic.dialect.name == "postgresql":
                await conn.execute(text("CREATE EXTENSION IF NOT EXISTS vector"))
            await conn.run_sync(_run_alembic)
        async with by_script.connect() as a, by_alembic.connect() as b:
            built, migrated = await a.run_sync(_schema), await b.run_sync(_schema)
        assert built["version"] == [HEAD_REVISION]
        assert len(built["tables"]) > 15
        assert built == migrated
    finally:
        await by_script.dispose()
        await by_alembic.dispose()
