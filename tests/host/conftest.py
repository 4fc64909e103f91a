"""Fixtures for in-process tests of the host's layers: a fresh database of the suite's kind."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from host.persistence.db import Database, open_database
from tests.conftest import test_database_uri


@pytest.fixture
def database_url(tmp_path: Path) -> str:
    """A fresh database: a Postgres one when the suite runs on Postgres, else a SQLite file."""
    uri = test_database_uri() or f"sqlite+aiosqlite:///{tmp_path / 'fresh.db'}"
    return uri.replace("postgresql://", "postgresql+asyncpg://", 1)


@pytest.fixture
async def db(database_url: str) -> AsyncIterator[Database]:
    """The fresh database, migrated and open."""
    async with open_database(database_url) as database:
        yield database
