"""The dispatcher redacts a failing tool's error text of the keys the tool was given, whatever its source."""

from __future__ import annotations

from typing import Any

import pytest

from builtin_tools import CoreMemory, ToolContext
from host.tools.dispatcher import ToolDispatcher, ToolInfo
from host.tools.sources.custom import SandboxRouter
from mcp_client import McpToolResult

pytestmark = pytest.mark.anyio

AGENT_KEY = "agent-key-quoted-back"
SERVER_KEY = "tvly-server-key-quoted"


class QuotingServer:
    """An ``McpCaller`` whose tool answers by quoting every key the agent holds (a careless upstream error)."""

    def __init__(self, status: str) -> None:
        self.status = status

    async def call_tool(self, server: str, tool: str, arguments: dict[str, Any],
                        timeout_s: float | None = None) -> McpToolResult:
        return McpToolResult(self.status, f"rejected key {AGENT_KEY} (server key {SERVER_KEY}), region eu")


def _call(status: str) -> Any:
    dispatcher = ToolDispatcher(SandboxRouter(), mcp=QuotingServer(status))
    tool = ToolInfo(id="tool-1", name="lookup", tool_type="external_mcp", json_schema={},
                    metadata={"mcp_server": "remote", "mcp_tool": "lookup"})
    ctx = ToolContext(agent_id="agent-1", agent_name="a", memory=CoreMemory(), archival=None,  # type: ignore[arg-type]
                      recall=None, env={"TAVILY_API_KEY": SERVER_KEY, "API_KEY": AGENT_KEY, "REGION": "eu"})
    return dispatcher.call(tool, {}, ctx, agent_env={"API_KEY": AGENT_KEY, "REGION": "eu"})


async def test_an_error_text_is_redacted_of_the_agents_and_the_servers_keys() -> None:
    result = await _call("error")
    assert result.status == "error"
    assert result.text == "rejected key **** (server key ****), region eu"


async def test_a_successful_result_is_the_tools_own_answer() -> None:
    result = await _call("success")
    assert AGENT_KEY in result.text, "only error text is redacted; a success is what the tool chose to return"
