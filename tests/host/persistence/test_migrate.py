"""`migrate` brings a database to the newest revision, and recognises one that is there already
without loading Alembic (it is only needed when there is something to apply)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from alembic.config import Config
from alembic.script import ScriptDirectory
from sqlalchemy import text

from host.persistence import db
from host.persistence.db import HEAD_REVISION, create_engine, migrate

pytestmark = pytest.mark.anyio
REPO = Path(__file__).resolve().parents[3]

MIGRATE_AGAIN = """
import sys, anyio
from host.persistence.db import create_engine, migrate

async def main():
    engine = create_engine(sys.argv[1])
    try:
        await migrate(engine)
    finally:
        await engine.dispose()

anyio.run(main)
assert "alembic" not in sys.modules, "Alembic was loaded for a database already at head"
"""


def test_head_revision_is_the_newest_migration() -> None:
    cfg = Config()
    cfg.set_main_option("script_location", str(db._MIGRATIONS))
    assert ScriptDirectory.from_config(cfg).get_heads() == [HEAD_REVISION]


async def test_a_database_at_head_is_recognised_without_alembic(database_url: str) -> None:
    url = database_url
    engine = create_engine(url)
    try:
        await migrate(engine)
        async with engine.connect() as conn:
            versions = (await conn.execute(text("SELECT version_num FROM alembic_version"))).scalars().all()
        assert versions == [HEAD_REVISION]
    finally:
        await engine.dispose()
    subprocess.run([sys.executable, "-c", MIGRATE_AGAIN, url], check=True, cwd=REPO, timeout=60)
