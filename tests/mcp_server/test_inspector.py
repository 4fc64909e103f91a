"""The npm MCP Inspector's command-line mode (its own TypeScript SDK client) lists and calls the tools."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import anyio
import pytest

from tests.mcp_server.conftest import REPO
from tests.support.server import ServerProcess

pytestmark = pytest.mark.anyio

INSPECTOR = REPO / "tests" / "inspector" / "node_modules" / ".bin" / "mcp-inspector"
needs_inspector = pytest.mark.skipif(not INSPECTOR.exists(), reason="run `npm ci` in tests/inspector")


async def _inspect(*args: str) -> dict:
    with anyio.fail_after(45):
        done = await anyio.run_process([str(INSPECTOR), "--cli", *args], cwd=str(REPO), check=False)
    assert done.returncode == 0, done.stderr.decode() + done.stdout.decode()
    return json.loads(done.stdout)


@needs_inspector
async def test_inspector_calls_a_tool_over_stdio(tmp_path: Path) -> None:
    env = ["-e", f"LETTA_DIR={tmp_path}", "-e", "LITELLM_LOCAL_MODEL_COST_MAP=True"]
    command = [*env, sys.executable, "-m", "host.cli", "mcp"]
    called = await _inspect(*command, "--method", "tools/call", "--tool-name", "list_agents")
    assert called["isError"] is False and "No agents found" in called["content"][0]["text"]


@needs_inspector
async def test_inspector_lists_and_calls_tools_over_http(server: ServerProcess) -> None:
    url = server.base_url + "/mcp"
    listed = await _inspect(url, "--method", "tools/list")
    assert "send_message_to_agent" in {t["name"] for t in listed["tools"]}
    missing = await _inspect(url, "--method", "tools/call", "--tool-name", "get_agent",
                             "--tool-arg", "agent_id=agent-missing")
    assert missing["isError"] is True and "agent-missing" in missing["content"][0]["text"]
