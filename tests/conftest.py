"""Shared fixtures: the scripted LLM, a database per server, and a running ``agenthost serve``.

The whole suite runs on SQLite by default and on Postgres when ``AGENTHOST_TEST_PG_URI`` is set
(each server then gets a fresh database on that Postgres).
"""

from __future__ import annotations

import os

os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.support.scripted_llm import ScriptedLLM
from tests.support.server import ServerProcess, fresh_pg_database, server_env

PG_ADMIN_URI = os.environ.get("AGENTHOST_TEST_PG_URI") or None

# The tests of the two libraries that never open the database (the sandbox, the MCP client) run where the suite
# runs on SQLite: on Postgres they would run the same code again. The one sandbox test through a server stays.
_NO_DATABASE = ("tests/mcp_client/", "tests/sandbox/")
_THROUGH_A_SERVER = ("tests/sandbox/test_containment_api.py",)
_ROOT = Path(__file__).resolve().parents[1]


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if PG_ADMIN_URI is None:
        return
    kept: list[pytest.Item] = []
    left_out: list[pytest.Item] = []
    for item in items:
        path = item.path.resolve()
        rel = path.relative_to(_ROOT).as_posix() if path.is_relative_to(_ROOT) else ""
        database_free = rel.startswith(_NO_DATABASE) and not rel.startswith(_THROUGH_A_SERVER)
        (left_out if database_free else kept).append(item)
    if left_out:
        config.hook.pytest_deselected(items=left_out)
        items[:] = kept


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


def test_database_uri() -> str | None:
    """A fresh Postgres database when the suite runs on Postgres, else None (SQLite)."""
    return fresh_pg_database(PG_ADMIN_URI) if PG_ADMIN_URI else None


@pytest.fixture(scope="session")
def scripted_llm() -> Iterator[ScriptedLLM]:
    with ScriptedLLM() as llm:
        yield llm


@pytest.fixture(scope="session")
def server(scripted_llm: ScriptedLLM, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    home = tmp_path_factory.mktemp("agenthost-home")
    env = server_env(home, scripted_llm.base_url, pg_uri=test_database_uri())
    with ServerProcess(home=home, env=env) as proc:
        yield proc


@pytest.fixture(scope="session")
def http(server: ServerProcess) -> Iterator[httpx.Client]:
    """A plain HTTP client of the session server (for raw routes and exact wire shapes)."""
    with httpx.Client(base_url=server.base_url, timeout=60) as c:
        yield c


@pytest.fixture
def make_server(scripted_llm: ScriptedLLM, tmp_path: Path) -> Iterator:
    """Start extra servers with their own home, database and environment."""
    started: list[ServerProcess] = []

    def make(extra: dict[str, str] | None = None, *, home: Path | None = None, pg_uri: str | None = None,
             llm: bool = True, log_level: str = "warning") -> ServerProcess:
        h = home or (tmp_path / f"home{len(started)}")
        uri = pg_uri if pg_uri is not None else test_database_uri()
        proc = ServerProcess(home=h, env=server_env(h, scripted_llm.base_url if llm else None, pg_uri=uri,
                                                    extra=extra), log_level=log_level)
        started.append(proc)
        return proc.start()

    yield make
    for proc in started:
        proc.stop()
        # pytest shows a test's captured output only when it fails: the servers' logs then say why
        print(f"--- log of the server on port {proc.port} ---\n{proc.log()}")
