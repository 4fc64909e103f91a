"""The tool gateway: agenthost's tool catalogue as MCP tools, under collision-free names.

    custom__<tool>            a custom Python tool (runs in the sandbox)
    composio__<tool>          a registered Composio tool (tool_type external_composio)
    mcp__<server>__<tool>     a tool of a connected MCP server (the McpPool)

Unscoped, the gateway lists the whole catalogue. Scoped to an agent (``/mcp?agent_id=...`` or
``agenthost mcp --agent ID``) it lists that agent's own tools, and the agent's tool rules decide what may
be called and when: one ``SolverState`` per MCP session, reset when a rule ends the sequence (an
``exit_loop`` tool, or no tool left allowed). Built-in ``letta_*`` tools are not exposed: the memory
tools of this server cover them. Every call goes through the host's ``ToolDispatcher``.
"""

from __future__ import annotations

import logging
import re
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

from builtin_tools import CoreMemory, ServicesConfig, ToolContext

from host.agent.ports import ArchivalAdapter, RecallAdapter
from host.agent.store import load_snapshot
from host.schemas.blocks import BlockUpdate
from host.services import Services
from host.tooling import server_tool_env
from host.tools.dispatcher import COMPOSIO_TOOL_TYPE, MCP_TOOL_TYPE, ToolInfo
from host.tools.rules import SolverState, ToolRulesSolver

from mcp_server.backend import ToolRunOutcome
from mcp_server.local import host_errors

logger = logging.getLogger(__name__)

MAX_NAME = 64  # what Claude and most clients accept
MAX_SESSIONS = 1024
_UNSAFE = re.compile(r"[^A-Za-z0-9_-]+")


@dataclass(frozen=True)
class GatewayTool:
    public_name: str
    info: ToolInfo
    description: str
    input_schema: dict[str, Any]
    source: str  # "custom" | "composio" | "mcp"


@dataclass(frozen=True)
class CallOutcome:
    outcome: ToolRunOutcome
    changed_blocks: list[str]


def _clean(part: str) -> str:
    return _UNSAFE.sub("_", part).strip("_") or "tool"


def _unique(base: str, taken: set[str]) -> str:
    name = base[:MAX_NAME]
    n = 2
    while name in taken:
        suffix = f"_{n}"
        name = base[:MAX_NAME - len(suffix)] + suffix
        n += 1
    taken.add(name)
    return name


def _parameters(json_schema: dict[str, Any]) -> dict[str, Any]:
    params = dict(json_schema.get("parameters") or {"type": "object", "properties": {}})
    props = {k: v for k, v in (params.get("properties") or {}).items() if k != "request_heartbeat"}
    out = {**params, "type": "object", "properties": props}
    if "required" in params:
        out["required"] = [r for r in params["required"] if r != "request_heartbeat"]
    return out


def _from_info(info: ToolInfo, description: str | None, taken: set[str]) -> GatewayTool | None:
    if info.tool_type.startswith("letta"):
        return None
    if info.tool_type == MCP_TOOL_TYPE:
        server, remote = str(info.metadata.get("mcp_server") or "mcp"), str(info.metadata.get("mcp_tool") or info.name)
        name = _unique(f"mcp__{_clean(server)}__{_clean(remote)}", taken)
        schema = dict(info.json_schema.get("parameters") or info.json_schema or {"type": "object"})
        return GatewayTool(name, info, f"[MCP server {server!r}] {description or ''}".strip(), schema, "mcp")
    if info.tool_type == COMPOSIO_TOOL_TYPE:
        name = _unique(f"composio__{_clean(info.name)}", taken)
        return GatewayTool(name, info, f"[Composio] {description or ''}".strip(), _parameters(info.json_schema),
                           "composio")
    if not info.source_code:
        return None
    name = _unique(f"custom__{_clean(info.name)}", taken)
    return GatewayTool(name, info, description or info.json_schema.get("description") or "",
                       _parameters(info.json_schema), "custom")


class Gateway:
    def __init__(self, services: Services) -> None:
        self.svc = services
        self._states: OrderedDict[tuple[str, str], SolverState] = OrderedDict()

    # ---- catalogue ---------------------------------------------------------------------------
    async def tools(self, agent_id: str | None) -> list[GatewayTool]:
        return await (self._agent_tools(agent_id) if agent_id else self._catalogue())

    async def _catalogue(self) -> list[GatewayTool]:
        taken: set[str] = set()
        out: list[GatewayTool] = []
        for row in await self.svc.tools.list(limit=None):
            if row.tool_type == MCP_TOOL_TYPE:
                continue  # listed from the pool below, with the live schema
            info = ToolInfo(id=row.id, name=row.name or "", tool_type=row.tool_type or "custom",
                            json_schema=row.json_schema or {}, source_code=row.source_code,
                            pip_requirements=row.pip_requirements, return_char_limit=row.return_char_limit,
                            metadata=dict(row.metadata_ or {}))
            tool = _from_info(info, row.description, taken)
            if tool is not None:
                out.append(tool)
        if self.svc.mcp is not None:
            for mt in self.svc.mcp.list_tools():
                info = ToolInfo(id=f"mcp:{mt.server}:{mt.name}", name=mt.agent_name, tool_type=MCP_TOOL_TYPE,
                                json_schema={"name": mt.agent_name, "description": mt.description,
                                             "parameters": mt.input_schema},
                                metadata={"mcp_server": mt.server, "mcp_tool": mt.name})
                tool = _from_info(info, mt.description, taken)
                if tool is not None:
                    out.append(tool)
        return out

    async def _agent_tools(self, agent_id: str) -> list[GatewayTool]:
        async with host_errors():
            snap, _history = await load_snapshot(self.svc.db, agent_id)
        taken: set[str] = set()
        tools = [_from_info(t, t.json_schema.get("description"), taken) for t in snap.tools]
        return [t for t in tools if t is not None]

    # ---- calls -------------------------------------------------------------------------------
    async def call(self, tool: GatewayTool, args: dict[str, Any], agent_id: str | None,
                   session_key: str) -> CallOutcome:
        if not agent_id:
            ctx = ToolContext(agent_id=None, agent_name="", memory=CoreMemory.of([]),  # type: ignore[arg-type]
                              archival=None, recall=None,  # type: ignore[arg-type]
                              env=server_tool_env(self.svc.settings), services=ServicesConfig())
            result = await self.svc.dispatcher.call(tool.info, args, ctx)
            return CallOutcome(ToolRunOutcome(result.status, result.text, result.stdout, result.stderr), [])
        return await self._scoped_call(tool, args, agent_id, session_key)

    async def _scoped_call(self, tool: GatewayTool, args: dict[str, Any], agent_id: str,
                           session_key: str) -> CallOutcome:
        async with host_errors():
            snap, _history = await load_snapshot(self.svc.db, agent_id)
        exposed = {t.info.name for t in await self._agent_tools(agent_id)}
        solver = ToolRulesSolver(rules=tuple(snap.rules), available_tools=frozenset(exposed))
        key = (agent_id, session_key)
        state = self._states.get(key, SolverState())
        violation = solver.check_call(state, tool.info.name)
        if violation is not None:
            return CallOutcome(ToolRunOutcome("error", violation.message), [])
        if solver.decide_before_call(state, tool.info.name) is not None:
            return CallOutcome(ToolRunOutcome("error", f"{tool.info.name} requires approval under agent {agent_id}'s "
                                                       "tool rules; it cannot be called through MCP"), [])
        info = snap.tool(tool.info.name) or tool.info
        memory = CoreMemory.of(snap.blocks)
        ctx = ToolContext(agent_id=snap.id, agent_name=snap.name, memory=memory,
                          archival=ArchivalAdapter(self.svc.archival, snap.id),
                          recall=RecallAdapter(self.svc.messages, snap.id),
                          env={**server_tool_env(self.svc.settings), **snap.env}, services=ServicesConfig())
        result = await self.svc.dispatcher.call(info, args, ctx, agent_env=dict(snap.env))
        state = solver.record(state, info.name, result.text)
        decision = solver.decide_after_call(state, info.name)
        text = result.text
        if decision.kind == "end_turn":
            self._states.pop(key, None)
            text += f"\n\n[agent {agent_id}'s tool rules end the sequence here ({decision.reason}); the next call " \
                    "starts a new one]"
        else:
            self._remember(key, state)
            if decision.message:
                text += f"\n\n[{decision.message}]"
        changed = []
        for block in memory.changed_blocks():
            async with host_errors():
                await self.svc.memory.modify_block(agent_id, block.label, BlockUpdate(value=block.value))
            changed.append(block.label)
        return CallOutcome(ToolRunOutcome(result.status, text, result.stdout, result.stderr), changed)

    def _remember(self, key: tuple[str, str], state: SolverState) -> None:
        self._states[key] = state
        self._states.move_to_end(key)
        while len(self._states) > MAX_SESSIONS:
            self._states.popitem(last=False)


__all__ = ["CallOutcome", "Gateway", "GatewayTool"]
