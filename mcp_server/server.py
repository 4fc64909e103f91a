"""The MCP server: one low-level SDK ``Server`` whose handlers call the backend and the tool catalogue.

Serves every protocol revision the SDK speaks (2025-03-26 .. 2026-07-28): the SDK's runner handles the
``initialize`` handshake and the 2026 per-request envelope; this module only supplies handlers.

A connection's scope (the agent whose tools and rules the catalogue exposes) comes from ``?agent_id=`` on
the HTTP endpoint, else from the server default (``agenthost mcp --agent``). Its session key (for the
per-session tool-rule state and handshake-era resource subscriptions) is the ``Mcp-Session-Id`` header,
else ``?session=``, else one shared key per process (stdio is one connection per process).

When the catalogue's tools change (an MCP server's tools arrive late or change), every client is told:
handshake-era connections that listed tools get ``notifications/tools/list_changed`` on their connection,
2026-07-28 clients an event on their ``subscriptions/listen`` stream.
"""

from __future__ import annotations

import logging
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import Any, TypeVar

import anyio
import mcp_types as types
from mcp.server.context import ServerRequestContext
from mcp.server.lowlevel.server import NotificationOptions, Server
from mcp.server.session import ServerSession
from mcp.server.subscriptions import ListenHandler
from mcp.shared.subscriptions import ToolsListChanged
from mcp_types.version import MODERN_PROTOCOL_VERSIONS

from mcp_server.agent_tools import AGENT_TOOLS, BY_NAME, ToolAnswer, ToolCall
from mcp_server.backend import Backend
from mcp_server.catalogue import CATALOGUE_PREFIXES, Catalogue
from mcp_server.errors import McpServerError
from mcp_server.log_levels import SessionLogLevels
from mcp_server.prompts import complete, get_prompt, list_prompts
from mcp_server.resources import Subscriptions, list_resources, read_resource, templates

T = TypeVar("T")

logger = logging.getLogger(__name__)

MAX_LISTERS = 1024  # handshake-era sessions remembered for tools/list_changed (the oldest are forgotten)

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


class _Server(Server[Any]):
    """The SDK's server, advertising ``tools.listChanged`` to handshake-era clients whichever transport
    builds the initialization options (stdio passes none; the streamable-HTTP session manager cannot)."""

    def create_initialization_options(self, notification_options: NotificationOptions | None = None,
                                      experimental_capabilities: dict[str, dict[str, Any]] | None = None,
                                      extensions: dict[str, dict[str, Any]] | None = None) -> Any:
        return super().create_initialization_options(notification_options or NotificationOptions(tools_changed=True),
                                                     experimental_capabilities, extensions)


class AgentHostMcp:
    """Handlers over a backend (agents, memory) and an optional tool catalogue."""

    def __init__(self, backend: Backend, catalogue: Catalogue | None = None, *, default_agent: str | None = None,
                 name: str = "agenthost", version: str = "",
                 caller: Callable[[Any], AbstractContextManager[Any]] | None = None) -> None:
        self.backend = backend
        self.catalogue = catalogue
        self.default_agent = default_agent
        self.subscriptions = Subscriptions()
        self.log_levels = SessionLogLevels()
        self._listers: OrderedDict[str, ServerSession] = OrderedDict()  # handshake-era sessions that listed
        self._caller = caller
        w = self._as_caller
        self.server: Server[Any] = _Server(
            name, version=version, title="agenthost", instructions=INSTRUCTIONS,
            on_list_tools=w(self._list_tools), on_call_tool=w(self._call_tool),
            on_list_resources=w(self._list_resources), on_list_resource_templates=w(self._list_templates),
            on_read_resource=w(self._read_resource), on_subscribe_resource=w(self._subscribe),
            on_unsubscribe_resource=w(self._unsubscribe),
            on_subscriptions_listen=ListenHandler(self.subscriptions.bus),
            on_list_prompts=w(self._list_prompts), on_get_prompt=w(self._get_prompt), on_completion=w(self._complete),
            on_set_logging_level=w(self._set_level))

    def _as_caller(self, handler: Callable[[Any, Any], Awaitable[T]]) -> Callable[[Any, Any], Awaitable[T]]:
        """Run ``handler`` as the caller of the HTTP request that carried the message (``caller``): sessions
        of the /mcp endpoint run in the session manager's tasks, not in the request's context."""
        caller = self._caller
        if caller is None:
            return handler

        async def run(ctx: Any, params: Any) -> T:
            with caller(getattr(ctx, "request", None)):
                return await handler(ctx, params)

        return run

    # ---- tools -------------------------------------------------------------------------------
    async def _list_tools(self, ctx: ServerRequestContext[Any, Any],
                          params: types.PaginatedRequestParams | None) -> types.ListToolsResult:
        scope = connection_scope(ctx, self.default_agent)
        if ctx.session.protocol_version not in MODERN_PROTOCOL_VERSIONS:
            self._remember_lister(scope.session_key, ctx.session)
        scoped = scope.agent_id is not None
        tools = [types.Tool(name=t.name, description=t.description, input_schema=t.input_schema(scoped),
                            annotations=types.ToolAnnotations(read_only_hint=t.read_only, open_world_hint=False))
                 for t in AGENT_TOOLS]
        if self.catalogue is not None:
            try:
                for g in await self.catalogue.list(scope.agent_id):
                    tools.append(types.Tool(name=g.name, description=g.description, input_schema=g.input_schema))
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
                done = await self.catalogue.call(params.name, args, scope.agent_id, scope.session_key)
                await self.subscriptions.changed(done.changed)
                return _error(done.text) if done.is_error else _ok(done.text)
        except McpServerError as exc:
            return _error(exc.message)
        except Exception as exc:  # a bug must not take the connection down: report it as a tool error
            logger.exception("MCP tool %s failed", params.name)
            return _error(f"{params.name} failed inside agenthost: {type(exc).__name__}: {exc}")
        return _error(f"Unknown tool {params.name!r}; call tools/list for the tools of this server")

    # ---- tools/list_changed ------------------------------------------------------------------
    async def follow_catalogue(self) -> None:
        """Tell every client when the catalogue's tools change (runs until cancelled)."""
        if self.catalogue is None:
            return
        while True:
            await self.catalogue.change_event().wait()
            await self.tools_changed()

    async def tools_changed(self) -> None:
        """``notifications/tools/list_changed`` to handshake-era sessions that listed tools; a listen event
        to 2026-07-28 clients. Best-effort: a client that has gone is simply not told."""
        for key, session in list(self._listers.items()):
            try:
                with anyio.fail_after(5):
                    await session.send_tool_list_changed()  # on the connection's standalone stream
            except Exception:  # noqa: BLE001 - a gone or stuck client must not stop the others being told
                logger.debug("tools/list_changed not delivered to %s", key, exc_info=True)
                self._listers.pop(key, None)
        await self.subscriptions.bus.publish(ToolsListChanged())

    def _remember_lister(self, key: str, session: ServerSession) -> None:
        self._listers[key] = session
        self._listers.move_to_end(key)
        while len(self._listers) > MAX_LISTERS:
            self._listers.popitem(last=False)

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
