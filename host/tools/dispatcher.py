"""Route one tool call to its source and turn every outcome into a ``ToolResult``.

    builtin   -> builtin_tools (in-process: memory, search, multi-agent, web_search, run_code)
    custom    -> sandbox (local subprocess or E2B), never in the server process
    mcp       -> mcp_client pool (one long-lived session per server)
    composio  -> composio SDK

A failing tool is data (``status="error"``) that goes back to the model; only bugs raise. Its error text
is redacted of the values of the keys it was given (the agent's tool variables, the server's keys for
built-in tools); MCP and sandbox results arrive already redacted of their own configuration.
Arguments are checked against the tool's JSON schema before any source runs (``arg_validation``).
"""

from __future__ import annotations

import json
import logging
import time
from dataclasses import dataclass, field
from typing import Any, Protocol

from builtin_tools import CoreMemory, MemoryBlock, ToolContext, get_builtin
from host.tools.arg_validation import argument_problem
from host.tools.sources.custom import SandboxRouter
from mcp_client import Redactor, env_secrets

logger = logging.getLogger(__name__)

MCP_TOOL_TYPE = "external_mcp"
COMPOSIO_TOOL_TYPE = "external_composio"


@dataclass(frozen=True)
class ToolInfo:
    """What the dispatcher needs to know about a tool attached to an agent."""

    id: str
    name: str
    tool_type: str
    json_schema: dict[str, Any]
    source_code: str | None = None
    pip_requirements: list[dict[str, Any]] | None = None
    return_char_limit: int = 6000
    metadata: dict[str, Any] = field(default_factory=dict)


@dataclass
class ToolResult:
    status: str  # "success" | "error"
    text: str
    stdout: list[str] | None = None
    stderr: list[str] | None = None
    duration_ms: float = 0.0


class McpCaller(Protocol):
    async def call_tool(self, server: str, tool: str, arguments: dict[str, Any],
                        timeout_s: float | None = None) -> Any: ...


class ComposioCaller(Protocol):
    async def execute_action(self, action: str, args: dict[str, Any], entity_id: str = "default") -> Any: ...


def _truncate(text: str, limit: int) -> str:
    if len(text) <= limit:
        return text
    return text[:limit] + f"... [NOTE: output truncated to {limit} of {len(text)} characters]"


def tool_return_text(value: Any) -> str:
    """A tool's return value as the text the model (or a caller) sees: strings as they are, else JSON."""
    if isinstance(value, str):
        return value
    try:
        return json.dumps(value, ensure_ascii=False)
    except (TypeError, ValueError):
        return str(value)


def _log_failure(tool: ToolInfo, agent_id: str | None, result: ToolResult) -> None:
    """A timeout (or CPU limit) is the operator's business: a warning naming agent and tool. Other tool
    errors are the model's business (it sees them): info. Identical repeats are rate-limited (host.logs)."""
    first = (result.text.splitlines() or [""])[0][:300]
    lowered = first.lower()
    level = logging.WARNING if "timed out" in lowered or "time limit" in lowered else logging.INFO
    logger.log(level, "agent %s: tool %s (%s) failed: %s", agent_id, tool.name, tool.tool_type, first,
               extra={"agent_id": agent_id, "tool": tool.name})


class ToolDispatcher:
    def __init__(self, sandboxes: SandboxRouter, mcp: McpCaller | None = None,
                 composio_factory: Any | None = None) -> None:
        self.sandboxes = sandboxes
        self.mcp = mcp
        self.composio_factory = composio_factory

    async def call(self, tool: ToolInfo, args: dict[str, Any], ctx: ToolContext,
                   agent_env: dict[str, str] | None = None) -> ToolResult:
        """Run one call. ``agent_env`` is what sandboxed code may see (the agent's own variables);
        ``ctx.env`` also carries the server's keys, for built-in tools only."""
        started = time.perf_counter()
        try:
            result = await self._route(tool, args, ctx, agent_env if agent_env is not None else {})
        except Exception as exc:  # an infrastructure bug must not kill the turn: report it to the model
            logger.exception("tool %s failed in the host (agent %s)", tool.name, ctx.agent_id)
            result = ToolResult("error", f"Tool {tool.name} failed inside the host: {type(exc).__name__}: {exc}")
        if result.status == "error":  # error text may quote a key the tool was given (docs/security.md)
            result.text = Redactor(env_secrets(ctx.env) | env_secrets(agent_env or {}))(result.text)
        result.text = _truncate(result.text, max(1, tool.return_char_limit))
        result.duration_ms = (time.perf_counter() - started) * 1000
        if result.status == "error":
            _log_failure(tool, ctx.agent_id, result)
        return result

    async def _route(self, tool: ToolInfo, args: dict[str, Any], ctx: ToolContext,
                     agent_env: dict[str, str]) -> ToolResult:
        builtin = get_builtin(tool.name) if tool.tool_type.startswith("letta") else None
        if builtin is not None:
            out = await builtin.run(args, ctx)  # checks its arguments against the built-in's schema
            return ToolResult(out.status, out.text)
        problem = argument_problem(tool.name, tool.json_schema, args)
        if problem is not None:
            return ToolResult("error", problem)
        if tool.tool_type == MCP_TOOL_TYPE:
            return await self._mcp(tool, args)
        if tool.tool_type == COMPOSIO_TOOL_TYPE:
            return await self._composio(tool, args, ctx)
        if tool.source_code:
            return await self._custom(tool, args, ctx, agent_env)
        return ToolResult("error", f"Tool {tool.name} ({tool.tool_type}) has no implementation on this server")

    async def _custom(self, tool: ToolInfo, args: dict[str, Any], ctx: ToolContext,
                      agent_env: dict[str, str]) -> ToolResult:
        outcome = await self.sandboxes.run_tool(
            source_code=tool.source_code or "", function_name=tool.name, args=args, env=dict(agent_env),
            pip_requirements=tool.pip_requirements, agent_id=ctx.agent_id or None, agent_name=ctx.agent_name,
            blocks=[(b.label, b.value, b.limit, b.description, b.read_only) for b in ctx.memory.blocks],
        )
        if outcome.agent_state is not None:
            _apply_block_edits(ctx.memory, {b.label: b.value for b in outcome.agent_state.blocks})
        if outcome.status == "success":
            text = tool_return_text(outcome.func_return)
        else:
            text = outcome.error or "the tool failed"
        return ToolResult(outcome.status, text, stdout=outcome.stdout or None, stderr=outcome.stderr or None)

    async def _mcp(self, tool: ToolInfo, args: dict[str, Any]) -> ToolResult:
        server = tool.metadata.get("mcp_server")
        remote = tool.metadata.get("mcp_tool") or tool.name
        if self.mcp is None or not server:
            return ToolResult("error", f"MCP tool {tool.name} has no connected server on this host")
        res = await self.mcp.call_tool(server, remote, args)
        return ToolResult(getattr(res, "status", "success"), getattr(res, "text", str(res)))

    async def _composio(self, tool: ToolInfo, args: dict[str, Any], ctx: ToolContext) -> ToolResult:
        action = tool.metadata.get("composio_action") or tool.name.upper()
        key = ctx.env.get("COMPOSIO_API_KEY")
        if not key or self.composio_factory is None:
            return ToolResult("error", "Composio is not configured: set COMPOSIO_API_KEY on the server or in the "
                                       "agent's tool variables")
        gateway = self.composio_factory(key)
        out = await gateway.execute_action(action, args, entity_id=ctx.env.get("COMPOSIO_ENTITY") or "default")
        return ToolResult(out.status, out.text)


def _apply_block_edits(memory: CoreMemory, values: dict[str, str]) -> None:
    """Edits a sandboxed tool made through ``agent_state``: honour read-only and limits."""
    for label, value in values.items():
        block: MemoryBlock | None = memory.get(label)
        if block is None or block.value == value or block.read_only:
            continue
        if len(value) > block.limit:
            logger.warning("tool edit to block %s exceeds its limit; ignored", label)
            continue
        block.value = value
        memory.changed_labels.add(label)
