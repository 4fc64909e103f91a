"""Helpers for the MCP gateway tests: an agenthost with a temp mcp_config.json, peers, config edits."""

from __future__ import annotations

import json
import sys
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from letta_client import Letta

from tests.support.scripted_llm import ScriptedLLM
from tests.support.server import ServerProcess, server_env

PEER_SERVER = Path(__file__).resolve().parents[2] / "peers" / "peer_server.py"
EMBEDDING = "openai/text-embedding-3-small"
SECRET = "s3cret-value-never-shown"


def stdio_entry(**extra: Any) -> dict[str, Any]:
    return {"command": sys.executable, "args": [str(PEER_SERVER)], **extra}


def write_json(path: Path, document: dict[str, Any]) -> None:
    """Replace `path` atomically (a new inode, so the watcher sees the change)."""
    tmp = path.with_suffix(f".{uuid.uuid4().hex[:6]}.tmp")
    tmp.write_text(json.dumps(document, indent=2))
    tmp.replace(path)


@dataclass
class Gateway:
    """A running agenthost with the MCP gateway: raw httpx, the Letta SDK, its config file."""

    proc: ServerProcess
    http: httpx.Client
    client: Letta
    config_path: Path

    def status(self, name: str) -> dict[str, Any]:
        resp = self.http.get(f"/v1/tools/mcp/servers/{name}/status")
        assert resp.status_code == 200, resp.text
        return resp.json()  # type: ignore[no-any-return]

    def close(self) -> None:
        self.http.close()
        self.proc.stop()


def start_gateway(scripted_llm: ScriptedLLM, home: Path, config: dict[str, Any], *,
                  pg_uri: str | None = None) -> Gateway:
    home.mkdir(parents=True, exist_ok=True)
    config_path = home / "mcp_config.json"
    if not config_path.exists():
        write_json(config_path, config)
    env = server_env(home, scripted_llm.base_url, pg_uri=pg_uri,
                     extra={"AGENTHOST_MCP_CONFIG": str(config_path)})
    proc = ServerProcess(home=home, env=env).start()
    http = httpx.Client(base_url=proc.base_url, timeout=60)
    return Gateway(proc, http, Letta(base_url=proc.base_url, timeout=60), config_path)


