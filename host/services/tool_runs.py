"""Running one tool outside a turn (1.x ``POST /v1/agents/{id}/tools/{name}/run`` and
``POST /v1/mcp-servers/{id}/tools/{tool_id}/run``), and recompiling an agent's system prompt.

The answer is Letta's ``ToolExecutionResult``; a failing tool is data (``status: "error"``), never a 5xx.
Custom tools run in the sandbox with the agent's blocks and variables; MCP tools through the pool.
Built-in tools need a turn's context (memory, archival, recall ports), so they answer an error that says so.
"""

from __future__ import annotations

import logging
from typing import Any

from sqlalchemy import select

from host.errors import InvalidRequestError, NotFoundError
from host.ids import utcnow
from host.persistence.models import AgentRow
from host.schemas.agents import AgentState
from host.schemas.tools import Tool
from host.services.memory import compiled_system, recompile_system

logger = logging.getLogger(__name__)
MCP_TOOL_TYPE = "external_mcp"


def execution_result(status: str, func_return: Any, stdout: list[str] | None = None,
                     stderr: list[str] | None = None) -> dict[str, Any]:
    return {"status": status, "func_return": func_return, "agent_state": None, "stdout": stdout,
            "stderr": stderr, "sandbox_config_fingerprint": None}


async def run_tool(svc: Any, tool: Tool, args: dict[str, Any], agent: AgentState | None = None) -> dict[str, Any]:
    if not isinstance(args, dict):
        raise InvalidRequestError("args must be a JSON object of the tool's arguments")
    if tool.tool_type == MCP_TOOL_TYPE:
        meta = tool.metadata_ or {}
        return await run_mcp_tool(svc, meta.get("mcp_server"), meta.get("mcp_tool") or tool.name or "", args)
    if tool.tool_type.startswith("letta") or not tool.source_code:
        return execution_result("error", f"Tool {tool.name} ({tool.tool_type}) runs only inside an agent's turn; "
                                         "send the agent a message that asks for it")
    blocks = [(b.label, b.value, b.limit, b.description, b.read_only) for b in agent.memory.blocks] if agent else []
    env = {v.key: v.value or "" for v in agent.tool_exec_environment_variables} if agent else {}
    outcome = await svc.sandboxes.run_tool(
        source_code=tool.source_code, function_name=tool.name or "", args=args, env=env,
        pip_requirements=tool.pip_requirements, agent_id=agent.id if agent else None,
        agent_name=agent.name if agent else "", blocks=blocks)
    value = outcome.func_return if outcome.status == "success" else (outcome.error or "the tool failed")
    if outcome.status == "success" and not isinstance(value, (str, int, float, bool, list, dict, type(None))):
        value = str(value)
    return execution_result(outcome.status, value, list(outcome.stdout or []), list(outcome.stderr or []))


async def run_mcp_tool(svc: Any, server: str | None, tool_name: str, args: dict[str, Any]) -> dict[str, Any]:
    """One tool of an MCP server, called through the pool."""
    if svc.mcp is None or not server:
        return execution_result("error", f"MCP tool {tool_name} has no connected server on this host")
    result = await svc.mcp.call_tool(server, tool_name, args)
    return execution_result(result.status, result.text)


async def run_agent_tool(svc: Any, agent_id: str, tool_name: str, args: dict[str, Any]) -> dict[str, Any]:
    agent = await svc.agents.get(agent_id)
    tool = next((t for t in agent.tools if t.name == tool_name), None)
    if tool is None:
        names = ", ".join(sorted(t.name or "" for t in agent.tools)) or "none"
        raise NotFoundError(f"Agent {agent_id} has no tool named {tool_name!r} (attached: {names})")
    return await run_tool(svc, tool, args, agent)


async def recompile(db: Any, agent_id: str, *, dry_run: bool = False) -> str:
    """The agent's system prompt compiled from its current memory; stored unless ``dry_run``."""
    async with (db.session() if dry_run else db.transaction()) as s:
        agent = (await s.execute(select(AgentRow).where(AgentRow.id == agent_id))).scalar_one_or_none()
        if agent is None:
            raise NotFoundError.for_id("Agent", agent_id)
        text: str = await s.run_sync(compiled_system, agent)
        if not dry_run:
            await s.run_sync(recompile_system, agent)
            agent.updated_at = utcnow()
        return text
