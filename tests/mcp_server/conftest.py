"""Fixtures for the MCP server tests: `agenthost mcp` over stdio, and SDK clients of `/mcp`."""

from __future__ import annotations

import json
import sys
import uuid
from pathlib import Path
from typing import Any

import pytest
from mcp.client.stdio import StdioServerParameters

from tests.conftest import test_database_uri
from tests.support.scripted_llm import ScriptedLLM
from tests.support.server import ServerProcess, server_env

REPO = Path(__file__).resolve().parents[2]
PEER = REPO / "tests" / "peers" / "peer_server.py"


def unique_model(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def text_of(result: Any) -> str:
    return "\n".join(getattr(c, "text", "") for c in result.content)


def json_of(result: Any) -> Any:
    assert not result.is_error, text_of(result)
    return json.loads(text_of(result))


def stdio_params(home: Path, llm: ScriptedLLM | None, *extra_args: str, pg_uri: str | None = None,
                 extra_env: dict[str, str] | None = None) -> StdioServerParameters:
    env = server_env(home, llm.base_url if llm else None, pg_uri=pg_uri, extra=extra_env)
    return StdioServerParameters(command=sys.executable, args=["-m", "host.cli", "mcp", *extra_args], env=env,
                                 cwd=str(REPO))


def peer_config(home: Path) -> Path:
    home.mkdir(parents=True, exist_ok=True)
    path = home / "mcp_config.json"
    path.write_text(json.dumps({"mcpServers": {"peer": {"command": sys.executable, "args": [str(PEER)]}}}))
    return path


@pytest.fixture
def stdio_home(tmp_path: Path) -> Path:
    return tmp_path / "mcp-home"


@pytest.fixture
def stdio_db() -> str | None:
    """A fresh Postgres database for `agenthost mcp` when the suite runs on Postgres, else None (SQLite).
    (A sync fixture: creating the database runs its own event loop.)"""
    return test_database_uri()


@pytest.fixture
def secure_server(make_server: Any) -> ServerProcess:
    return make_server({"SECURE": "true", "LETTA_SERVER_PASSWORD": "s3cret"})


@pytest.fixture
def peer_server(make_server: Any, tmp_path: Path) -> ServerProcess:
    home = tmp_path / "gw-home"
    peer_config(home)
    return make_server(home=home)
