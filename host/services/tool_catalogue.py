"""The tool catalogue as an outside caller sees it (the MCP server today): agenthost's tools under
collision-free names, and calls to them, for one agent (under its tool rules) or for no agent.

    custom__<tool>            a custom Python tool (runs in the sandbox)
    composio__<tool>          a registered Composio tool (tool_type external_composio)
    mcp__<server>__<tool>     a tool of a connected MCP server (the McpServerPool)

Unscoped, the catalogue lists every tool. Scoped to an agent it lists that agent's own tools, and the
agent's tool rules decide what may be called and when: one ``SolverState`` per caller session, reset when a
rule ends the sequence (an ``exit_loop`` tool, or no tool left allowed). Built-in ``letta_*`` tools are not
listed (the MCP server's memory tools cover them). Every call is the loop's own rule-checked call
(``host.tools.calls.ToolCaller``); memory edits a tool makes are written through ``MemoryService``.
Unknown agents raise ``NotFoundError`` like every service.

``change_event()`` is set whenever the listed tools may have changed (an MCP server's tools arrived, changed or
left, see ``host.services.mcp_servers_lifespan``; a custom tool was created, changed or deleted), so that the MCP server can tell its clients to list again.
"""

from __future__ import annotations

import logging
import re
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

import anyio

from builtin_tools import CoreMemory
from host.agent.store import load_snapshot
from host.persistence.db import Database
from host.schemas.blocks import BlockUpdate
from host.services.mcp_servers import McpServerPool
from host.services.memory import MemoryService
from host.services.tools import ToolService, schema_for
from host.tools.calls import ToolCaller, ToolScope
from host.tools.dispatcher import COMPOSIO_TOOL_TYPE, MCP_TOOL_TYPE, ToolInfo, tool_return_text
from host.tools.rules import SolverState, ToolRulesSolver
from host.tools.sources.custom import SandboxRouter

logger = logging.getLogger(__name__)

MAX_NAME = 64  # what Claude and most clients accept
MAX_SESSIONS = 1024
_UNSAFE = re.compile(r"[^A-Za-z0-9_-]+")


@dataclass(frozen=True)
class CatalogueTool:
    public_name: str
    info: ToolInfo
    description: str
    input_schema: dict[str, Any]
    source: str  # "custom" | "composio" | "mcp"


@dataclass(frozen=True)
class CatalogueCall:
    """One call's result as the caller shows it (rule notes appended to ``text``), and the labels of the
    memory blocks it changed."""

    status: str  # "success" | "error"
    text: str
    stdout: list[str] | None = None
    stderr: list[str] | None = None
    changed_blocks: tuple[str, ...] = ()


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
    params: dict[str, Any] = dict(json_schema.get("parameters") or {"type": "object", "properties": {}})
    props = {k: v for k, v in (params.get("properties") or {}).items() if k != "request_heartbeat"}
    out = {**params, "type": "object", "properties": props}
    if "required" in params:
        out["required"] = [r for r in params["required"] if r != "request_heartbeat"]
    return out


def _from_info(info: ToolInfo, description: str | None, taken: set[str]) -> CatalogueTool | None:
    if info.tool_type.startswith("letta"):
        return None
    if info.tool_type == MCP_TOOL_TYPE:
        server, remote = str(info.metadata.get("mcp_server") or "mcp"), str(info.metadata.get("mcp_tool") or info.name)
        name = _unique(f"mcp__{_clean(server)}__{_clean(remote)}", taken)
        schema = dict(info.json_schema.get("parameters") or info.json_schema or {"type": "object"})
        return CatalogueTool(name, info, f"[MCP server {server!r}] {description or ''}".strip(), schema, "mcp")
    if info.tool_type == COMPOSIO_TOOL_TYPE:
        name = _unique(f"composio__{_clean(info.name)}", taken)
        return CatalogueTool(name, info, f"[Composio] {description or ''}".strip(), _parameters(info.json_schema),
                           "composio")
    if not info.source_code:
        return None
    name = _unique(f"custom__{_clean(info.name)}", taken)
    return CatalogueTool(name, info, description or info.json_schema.get("description") or "",
                       _parameters(info.json_schema), "custom")


class ToolCatalogue:
    def __init__(self, db: Database, tools: ToolService, memory: MemoryService, caller: ToolCaller,
                 pool: McpServerPool | None, sandboxes: SandboxRouter) -> None:
        self.db, self.tool_rows, self.memory, self.caller, self.pool = db, tools, memory, caller, pool
        self.sandboxes = sandboxes
        self._states: OrderedDict[tuple[str, str], SolverState] = OrderedDict()
        self._changed = anyio.Event()
        tools.observers.append(self.mark_changed)  # a custom tool created, changed or deleted over REST

    # ---- change notification -----------------------------------------------------------------
    def change_event(self) -> anyio.Event:
        """An event set by the next change of the listed tools."""
        return self._changed

    def mark_changed(self) -> None:
        changed, self._changed = self._changed, anyio.Event()
        changed.set()

    # ---- catalogue ---------------------------------------------------------------------------
    async def tools(self, agent_id: str | None) -> list[CatalogueTool]:
        return await (self._agent_tools(agent_id) if agent_id else self._catalogue())

    async def _catalogue(self) -> list[CatalogueTool]:
        taken: set[str] = set()
        out: list[CatalogueTool] = []
        for row in await self.tool_rows.list(limit=None):
            if row.tool_type == MCP_TOOL_TYPE:
                continue  # listed from the pool below, with the live schema
            info = ToolInfo(id=row.id, name=row.name or "", tool_type=row.tool_type or "custom",
                            json_schema=row.json_schema or {}, source_code=row.source_code,
                            pip_requirements=row.pip_requirements, return_char_limit=row.return_char_limit,
                            metadata=dict(row.metadata_ or {}))
            tool = _from_info(info, row.description, taken)
            if tool is not None:
                out.append(tool)
        if self.pool is not None:
            for mt in self.pool.list_tools():
                info = ToolInfo(id=f"mcp:{mt.server}:{mt.name}", name=mt.agent_name, tool_type=MCP_TOOL_TYPE,
                                json_schema={"name": mt.agent_name, "description": mt.description,
                                             "parameters": mt.input_schema},
                                metadata={"mcp_server": mt.server, "mcp_tool": mt.name})
                tool = _from_info(info, mt.description, taken)
                if tool is not None:
                    out.append(tool)
        return out

    async def _agent_tools(self, agent_id: str) -> list[CatalogueTool]:
        snap, _history = await load_snapshot(self.db, agent_id)
        taken: set[str] = set()
        tools = [_from_info(t, t.json_schema.get("description"), taken) for t in snap.tools]
        return [t for t in tools if t is not None]

    # ---- calls -------------------------------------------------------------------------------
    async def call(self, tool: CatalogueTool, args: dict[str, Any], agent_id: str | None,
                   session_key: str) -> CatalogueCall:
        if not agent_id:
            result = await self.caller.call_unscoped(tool.info, args)
            return CatalogueCall(result.status, result.text, result.stdout, result.stderr)
        return await self._scoped_call(tool, args, agent_id, session_key)

    async def _scoped_call(self, tool: CatalogueTool, args: dict[str, Any], agent_id: str,
                           session_key: str) -> CatalogueCall:
        snap, _history = await load_snapshot(self.db, agent_id)
        exposed = {t.info.name for t in await self._agent_tools(agent_id)}
        solver = ToolRulesSolver(rules=tuple(snap.rules), available_tools=frozenset(exposed))
        key = (agent_id, session_key)
        info = snap.tool(tool.info.name) or tool.info
        memory = CoreMemory.of(snap.blocks)
        scope = ToolScope(agent_id=snap.id, agent_name=snap.name, env=snap.env)
        call = await self.caller.call(solver, self._states.get(key, SolverState()), scope, info, args, memory)
        if call.refusal is not None:
            return CatalogueCall("error", call.refusal)
        if call.result is None or call.decision is None:  # held for approval: not possible here
            return CatalogueCall("error", f"{info.name} requires approval under agent {agent_id}'s tool rules; "
                                          "it cannot be called through MCP")
        result, decision = call.result, call.decision
        text = result.text
        if decision.kind == "end_turn":
            self._states.pop(key, None)
            text += f"\n\n[agent {agent_id}'s tool rules end the sequence here ({decision.reason}); the next call " \
                    "starts a new one]"
        else:
            self._remember(key, call.state)
            if decision.message:
                text += f"\n\n[{decision.message}]"
        changed = []
        for block in memory.changed_blocks():
            await self.memory.modify_block(agent_id, block.label, BlockUpdate(value=block.value))
            changed.append(block.label)
        return CatalogueCall(result.status, text, result.stdout, result.stderr, tuple(changed))

    async def run_source(self, source_code: str, args: dict[str, Any], env: dict[str, str],
                         pip: list[str]) -> CatalogueCall:
        """Run a Python function given as source, once, in the sandbox, for no agent (nothing stored)."""
        name, _description, _schema = schema_for(source_code, None, None)
        outcome = await self.sandboxes.run_tool(
            source_code=source_code, function_name=name, args=args, env=env,
            pip_requirements=[{"name": p} for p in pip] or None, agent_id=None, agent_name="", blocks=None)
        if outcome.status == "success":
            return CatalogueCall("success", tool_return_text(outcome.func_return), outcome.stdout or None,
                                 outcome.stderr or None)
        return CatalogueCall("error", outcome.error or "the tool failed", outcome.stdout or None,
                             outcome.stderr or None)

    def _remember(self, key: tuple[str, str], state: SolverState) -> None:
        self._states[key] = state
        self._states.move_to_end(key)
        while len(self._states) > MAX_SESSIONS:
            self._states.popitem(last=False)


__all__ = ["CatalogueCall", "CatalogueTool", "ToolCatalogue"]
