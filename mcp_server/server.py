"""The MCP server: one low-level SDK ``Server`` whose handlers call the backend and the tool catalogue.

Serves every protocol revision the SDK speaks (2025-03-26 .. 2026-07-28): the SDK's runner handles the
``initialize`` handshake and the 2026 per-request envelope; this module only supplies handlers.

A connection's scope (the agent whose tools and rules the catalogue exposes) comes from ``?agent_id=`` on
the HTTP endpoint, else from the server default (``agenthost mcp --agent``). Its session key (for the
per-session tool-rule state and handshake-era resource subscriptions) is the ``Mcp-Session-Id`` header,
else ``?session=``, else one shared key per process (stdio is one connection per process).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import mcp_types as types
from mcp.server.context import ServerRequestContext
from mcp.server.lowlevel.server import Server
from mcp.server.subscriptions import ListenHandler

from mcp_server.agent_tools import AGENT_TOOLS, BY_NAME, ToolAnswer, ToolCall
from mcp_server.backend import Backend, ToolRunOutcome
from mcp_server.errors import McpServerError
from mcp_server.local import host_errors
from mcp_server.log_levels import SessionLogLevels
from mcp_server.prompts import complete, get_prompt, list_prompts
from mcp_server.resources import Subscriptions, list_resources, read_resource, templates
from mcp_server.uris import block_uri

if TYPE_CHECKING:
    from host.services.tool_catalogue import ToolCatalogue

logger = logging.getLogger(__name__)

CATALOGUE_PREFIXES = ("custom__", "composio__", "mcp__")

INSTRUCTIONS = (
    "agenthost: stateful agents with persistent memory. Find an agent with list_agents (or create_agent), talk "
    "to it with send_message_to_agent, and read or edit what it remembers with read_memory_blocks, "
    "replace_memory_block, append_memory_block and the archival memory tools. Tools named custom__*, "
    "composio__* and mcp__<server>__* are agenthost's tool catalogue, run on the server."
)


@dataclass(frozen=True)
class ConnectionScope:
    agent_id: str | None
    session_key: str


def connection_scope(ctx: ServerRequestContext[Any, Any], default_agent: str | None) -> ConnectionScope:
    request = ctx.request
    headers = getattr(request, "headers", None)
    params = getattr(request, "query_params", None)
    if headers is None or params is None:
        return ConnectionScope(default_agent, "local")
    agent = params.get("agent_id") or default_agent
    session = headers.get("mcp-session-id")
    key = f"http:{session}" if session else (f"client:{params['session']}" if params.get("session") else "shared")
    return ConnectionScope(agent, key)


def _error(message: str) -> types.CallToolResult:
    return types.CallToolResult(content=[types.TextContent(type="text", text=message)], is_error=True)


def _ok(text: str) -> types.CallToolResult:
    return types.CallToolResult(content=[types.TextContent(type="text", text=text)], is_error=False)


class AgentHostMcp:
    """Handlers over a backend (agents, memory) and an optional tool catalogue (host services')."""

    def __init__(self, backend: Backend, catalogue: ToolCatalogue | None = None, *, default_agent: str | None = None,
                 name: str = "agenthost", version: str = "") -> None:
        self.backend = backend
        self.catalogue = catalogue
        self.default_agent = default_agent
        self.subscriptions = Subscriptions()
        self.log_levels = SessionLogLevels()
        self.server: Server[Any] = Server(
            name, version=version, title="agenthost", instructions=INSTRUCTIONS,
            on_list_tools=self._list_tools, on_call_tool=self._call_tool,
            on_list_resources=self._list_resources, on_list_resource_templates=self._list_templates,
            on_read_resource=self._read_resource, on_subscribe_resource=self._subscribe,
            on_unsubscribe_resource=self._unsubscribe,
            on_subscriptions_listen=ListenHandler(self.subscriptions.bus),
            on_list_prompts=self._list_prompts, on_get_prompt=self._get_prompt, on_completion=self._complete,
            on_set_logging_level=self._set_level)

    # ---- tools -------------------------------------------------------------------------------
    async def _list_tools(self, ctx: ServerRequestContext[Any, Any],
                          params: types.PaginatedRequestParams | None) -> types.ListToolsResult:
        scope = connection_scope(ctx, self.default_agent)
        scoped = scope.agent_id is not None
        tools = [types.Tool(name=t.name, description=t.description, input_schema=t.input_schema(scoped),
                            annotations=types.ToolAnnotations(read_only_hint=t.read_only, open_world_hint=False))
                 for t in AGENT_TOOLS]
        if self.catalogue is not None:
            try:
                async with host_errors():
                    listed = await self.catalogue.tools(scope.agent_id)
                for g in listed:
                    tools.append(types.Tool(name=g.public_name, description=g.description,
                                            input_schema=g.input_schema))
            except McpServerError as exc:  # e.g. a scope naming an unknown agent: list the agent tools only
                logger.warning("tool catalogue listing for %s failed: %s", scope.agent_id, exc.message)
        return types.ListToolsResult(tools=tools)

    async def _call_tool(self, ctx: ServerRequestContext[Any, Any],
                         params: types.CallToolRequestParams) -> types.CallToolResult:
        scope = connection_scope(ctx, self.default_agent)
        args = dict(params.arguments or {})
        try:
            if params.name in BY_NAME:
                answer = await BY_NAME[params.name].handler(args, ToolCall(
                    backend=self.backend, scope_agent=scope.agent_id, progress=self._progress(ctx)))
                await self.subscriptions.changed(answer.changed)
                return _ok(answer.text)
            if self.catalogue is not None and params.name.startswith(CATALOGUE_PREFIXES):
                return await self._call_catalogue(self.catalogue, params.name, args, scope)
        except McpServerError as exc:
            return _error(exc.message)
        except Exception as exc:  # a bug must not take the connection down: report it as a tool error
            logger.exception("MCP tool %s failed", params.name)
            return _error(f"{params.name} failed inside agenthost: {type(exc).__name__}: {exc}")
        return _error(f"Unknown tool {params.name!r}; call tools/list for the tools of this server")

    async def _call_catalogue(self, catalogue: ToolCatalogue, name: str, args: dict[str, Any],
                              scope: ConnectionScope) -> types.CallToolResult:
        async with host_errors():
            tool = next((t for t in await catalogue.tools(scope.agent_id) if t.public_name == name), None)
            if tool is None:
                where = f"agent {scope.agent_id}'s tools" if scope.agent_id else "the tool catalogue"
                return _error(f"Unknown tool {name!r}: it is not in {where}; call tools/list again")
            done = await catalogue.call(tool, args, scope.agent_id, scope.session_key)
        if done.changed_blocks and scope.agent_id:
            await self.subscriptions.changed([block_uri(scope.agent_id, label) for label in done.changed_blocks])
        outcome = ToolRunOutcome(done.status, done.text, done.stdout, done.stderr)
        return _ok(outcome.render()) if outcome.status == "success" else _error(outcome.render())

    def _progress(self, ctx: ServerRequestContext[Any, Any]) -> Any:
        """Progress notifications for a turn's steps, and the same steps as log notifications (``info``; a
        failed tool call ``warning``) at or above the session's ``logging/setLevel``."""
        count = 0
        session_key = connection_scope(ctx, None).session_key

        async def report(note: str, failed: bool) -> None:
            nonlocal count
            count += 1
            await ctx.session.report_progress(count, None, note)
            await self.log_levels.send(ctx.session, session_key, "warning" if failed else "info", note,
                                       "agenthost.agent")

        return report

    # ---- logging, prompts, completion --------------------------------------------------------
    async def _set_level(self, ctx: ServerRequestContext[Any, Any],
                         params: types.SetLevelRequestParams) -> types.EmptyResult:
        self.log_levels.set(connection_scope(ctx, None).session_key, str(params.level))
        return types.EmptyResult()

    async def _list_prompts(self, ctx: ServerRequestContext[Any, Any],
                            params: types.PaginatedRequestParams | None) -> types.ListPromptsResult:
        return list_prompts()

    async def _get_prompt(self, ctx: ServerRequestContext[Any, Any],
                          params: types.GetPromptRequestParams) -> types.GetPromptResult:
        return await get_prompt(self.backend, params.name, params.arguments)

    async def _complete(self, ctx: ServerRequestContext[Any, Any],
                        params: types.CompleteRequestParams) -> types.CompleteResult:
        return await complete(self.backend, params)

    # ---- resources ---------------------------------------------------------------------------
    async def _list_resources(self, ctx: ServerRequestContext[Any, Any],
                              params: types.PaginatedRequestParams | None) -> types.ListResourcesResult:
        scope = connection_scope(ctx, self.default_agent)
        try:
            return types.ListResourcesResult(resources=await list_resources(self.backend, scope.agent_id))
        except McpServerError as exc:
            logger.warning("resources/list failed: %s", exc.message)
            return types.ListResourcesResult(resources=[])

    async def _list_templates(self, ctx: ServerRequestContext[Any, Any],
                              params: types.PaginatedRequestParams | None) -> types.ListResourceTemplatesResult:
        return types.ListResourceTemplatesResult(resource_templates=templates())

    async def _read_resource(self, ctx: ServerRequestContext[Any, Any],
                             params: types.ReadResourceRequestParams) -> types.ReadResourceResult:
        return await read_resource(self.backend, str(params.uri))

    async def _subscribe(self, ctx: ServerRequestContext[Any, Any],
                         params: types.SubscribeRequestParams) -> types.EmptyResult:
        self.subscriptions.subscribe(str(params.uri), connection_scope(ctx, None).session_key, ctx.session)
        return types.EmptyResult()

    async def _unsubscribe(self, ctx: ServerRequestContext[Any, Any],
                           params: types.UnsubscribeRequestParams) -> types.EmptyResult:
        self.subscriptions.unsubscribe(str(params.uri), connection_scope(ctx, None).session_key)
        return types.EmptyResult()


__all__ = ["AgentHostMcp", "ConnectionScope", "ToolAnswer", "connection_scope"]
