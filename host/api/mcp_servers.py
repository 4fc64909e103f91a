"""``/v1/tools/mcp/servers``: Letta 0.8's MCP server routes, plus status, resync and whole-server attach.

    GET    /v1/tools/mcp/servers                          {name: server}   (with source, state, last_error;
                                                          X-MCP-Config-Error while mcp_config.json is unparsable)
    PUT    /v1/tools/mcp/servers                          add (database) -> [server]
    POST   /v1/tools/mcp/servers/test                     connect once, list tools -> [MCPTool]
    POST   /v1/tools/mcp/servers/connect                  the same as SSE: connection_attempt, then (a server
                                                          asking for OAuth) oauth_required, authorization_url,
                                                          waiting_for_auth; then success | error
    GET    /v1/tools/mcp/servers/{name}                   one server
    PATCH  /v1/tools/mcp/servers/{name}                   change it in its home (database or config file)
    DELETE /v1/tools/mcp/servers/{name}                   remove it from its home -> [server]
    GET    /v1/tools/mcp/servers/{name}/tools             [MCPTool] (+ agent_name)
    GET    /v1/tools/mcp/servers/{name}/status            live status (state, last_error, pid, attempts...)
    POST   /v1/tools/mcp/servers/{name}/resync            reconnect / re-list, refresh registered tool schemas
    POST   /v1/tools/mcp/servers/{name}/attach/{agent_id} register every tool and attach them -> [Tool]
    POST   /v1/tools/mcp/servers/{name}/detach/{agent_id} detach the server's tools -> [Tool]
    POST   /v1/tools/mcp/servers/{name}/tools/{tool}      register one tool -> Tool (unambiguous spelling)
    POST   /v1/tools/mcp/servers/{name}/{tool}            register one tool -> Tool (Letta's spelling)
    POST   /v1/tools/mcp/servers/{name}/tools/{tool}/execute  {args} -> {result, success} (through the pool)
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Annotated, Any

import anyio
from fastapi import Body, Depends, Request, Response
from pydantic import BaseModel, ConfigDict, Field
from sse_starlette import EventSourceResponse, ServerSentEvent

from host.api.routing import SlashRouter, actor, services
from host.domain.actor import Actor
from host.errors import HostError, NotFoundError
from host.schemas.mcp_servers import ServerConfigIn, ServerUpdateIn, mcp_tool_out, server_out, status_out
from host.schemas.tools import Tool
from host.services import Services
from host.services.mcp_oauth import Emit, McpOAuthService
from host.services.mcp_servers import McpServersService, ServerView
from host.services.tool_runs import run_mcp_tool
from mcp_client import McpTool

CONFIG_ERROR_HEADER = "X-MCP-Config-Error"  # the config file is unparsable: what is wrong, until it is fixed

router = SlashRouter(prefix="/v1/tools/mcp/servers", tags=["mcp"])


async def mcp_servers_service(svc: Annotated[Services, Depends(services)]) -> McpServersService:
    return McpServersService(svc)


McpServers = Annotated[McpServersService, Depends(mcp_servers_service)]


def _out(view: ServerView) -> dict[str, Any]:
    return server_out(view.name, view.config, source=view.source, status=view.status,
                      config_error=view.config_error, raw=view.raw, file_error=view.file_error)


@router.get("/", operation_id="list_mcp_servers")
async def list_mcp_servers(gw: McpServers, response: Response) -> dict[str, Any]:
    if gw.catalog.file_error is not None:  # seen even when the file's servers are not (yet) running
        response.headers[CONFIG_ERROR_HEADER] = _header_safe(gw.catalog.file_error)
    return {view.name: _out(view) for view in gw.list_servers()}


def _header_safe(text: str) -> str:
    return text.encode("ascii", "replace").decode().replace("\r", " ").replace("\n", " ")[:1000]


@router.put("/", operation_id="add_mcp_server")
async def add_mcp_server(body: ServerConfigIn, gw: McpServers) -> list[dict[str, Any]]:
    await gw.add(body.to_config())
    return [_out(view) for view in gw.list_servers()]


@router.post("/test", operation_id="test_mcp_server")
async def test_mcp_server(body: ServerConfigIn, gw: McpServers) -> list[dict[str, Any]]:
    return [mcp_tool_out(tool) for tool in await gw.test(body.to_config())]


class McpToolExecuteRequest(BaseModel):
    model_config = ConfigDict(extra="ignore")
    args: dict[str, Any] = Field(default_factory=dict)


def connect_stream(server_name: str, connect: Callable[[Emit], Awaitable[list[McpTool]]]) -> EventSourceResponse:
    """Letta's connect answer (SSE, one ``data: {json}`` per event): ``connection_attempt``; the events that
    ``connect`` emits on the way (OAuth: ``oauth_required``, ``authorization_url``, ``waiting_for_auth``);
    then ``success`` with the tools, or ``error``. The client hanging up stops the connect."""
    send, receive = anyio.create_memory_object_stream[dict[str, Any]](16)

    async def produce() -> None:
        async with send:
            await send.send({"event": "connection_attempt", "server_name": server_name})
            try:
                tools = await connect(send.send)
            except HostError as exc:
                await send.send({"event": "error", "message": exc.detail})
                return
            await send.send({"event": "success", "tools": [mcp_tool_out(t) for t in tools]})

    async def events() -> AsyncIterator[ServerSentEvent]:
        async with receive:
            async for event in receive:
                yield ServerSentEvent(data=json.dumps(event), sep="\n")

    return EventSourceResponse(events(), data_sender_callable=produce, sep="\n", ping=0,
                               headers={"Cache-Control": "no-cache"})


def oauth_service(svc: Annotated[Services, Depends(services)]) -> McpOAuthService:
    return McpOAuthService(svc.db, svc.byok.box)


OAuth = Annotated[McpOAuthService, Depends(oauth_service)]


def redirect_uri(request: Request) -> str:
    """Where the OAuth provider sends the browser back: this server, at the address the connect reached."""
    return str(request.base_url).rstrip("/") + "/v1/tools/mcp/oauth/callback"


@router.post("/connect", operation_id="connect_mcp_server")
async def connect_mcp_server(body: ServerConfigIn, oauth: OAuth, request: Request,
                             who: Annotated[Actor, Depends(actor)]) -> EventSourceResponse:
    """1.x's legacy connect: the config is tried (as ``/test``), not stored; a server that asks for OAuth is
    authorized (its grant is stored for the caller's organization and the URL, so adding the server
    afterwards connects with it)."""
    config = body.to_config()
    callback = redirect_uri(request)
    return connect_stream(config.name, lambda emit: oauth.connect(config, callback, emit, who.organization_id))


@router.get("/{name}", operation_id="retrieve_mcp_server")
async def retrieve_mcp_server(name: str, gw: McpServers) -> dict[str, Any]:
    return _out(gw.get(name))


@router.patch("/{name}", operation_id="update_mcp_server")
async def update_mcp_server(name: str, body: ServerUpdateIn, gw: McpServers) -> dict[str, Any]:
    current = gw.get(name)
    return _out(await gw.replace(name, body.apply(name, current.config)))


@router.delete("/{name}", operation_id="delete_mcp_server")
async def delete_mcp_server(name: str, gw: McpServers) -> list[dict[str, Any]]:
    await gw.delete(name)
    return [_out(view) for view in gw.list_servers()]


@router.get("/{name}/tools", operation_id="list_mcp_tools_by_server")
async def list_mcp_tools_by_server(name: str, gw: McpServers) -> list[dict[str, Any]]:
    return [mcp_tool_out(tool) for tool in await gw.ready_tools(name)]


@router.get("/{name}/status", operation_id="mcp_server_status")
async def mcp_server_status(name: str, gw: McpServers) -> dict[str, Any]:
    view = gw.get(name)
    return status_out(view.name, view.source, view.status, view.config_error, view.file_error)


@router.post("/{name}/resync", operation_id="resync_mcp_server")
async def resync_mcp_server(name: str, gw: McpServers) -> dict[str, Any]:
    outcome = await gw.resync(name)
    view = gw.get(name)
    return {**status_out(name, view.source, outcome.status, view.config_error, view.file_error),
            "updated_tools": outcome.updated, "missing_tools": outcome.missing}


@router.post("/{name}/attach/{agent_id}", response_model=list[Tool], operation_id="attach_mcp_server")
async def attach_mcp_server(name: str, agent_id: str, gw: McpServers) -> list[Tool]:
    return await gw.attach_server(name, agent_id)


@router.post("/{name}/detach/{agent_id}", response_model=list[Tool], operation_id="detach_mcp_server")
async def detach_mcp_server(name: str, agent_id: str, gw: McpServers) -> list[Tool]:
    return await gw.detach_server(name, agent_id)


@router.post("/{name}/tools/{tool}", response_model=Tool, operation_id="register_mcp_tool")
async def register_mcp_tool(name: str, tool: str, gw: McpServers) -> Tool:
    return await gw.register_tool(name, tool)


@router.post("/{name}/{tool}", response_model=Tool, operation_id="add_mcp_tool")
async def add_mcp_tool(name: str, tool: str, gw: McpServers) -> Tool:
    return await gw.register_tool(name, tool)


@router.post("/{name}/tools/{tool}/execute", operation_id="execute_mcp_tool")
async def execute_mcp_tool(name: str, tool: str, gw: McpServers, svc: Annotated[Services, Depends(services)],
                           body: Annotated[McpToolExecuteRequest, Body()]) -> dict[str, Any]:
    """Letta's answer: ``{"result", "success"}``; a failing tool is ``success: false``, not a 5xx."""
    if tool not in {t.name for t in await gw.ready_tools(name)}:
        raise NotFoundError(f"MCP server {name!r} has no tool named {tool!r}")
    outcome = await run_mcp_tool(svc, name, tool, body.args)
    return {"result": outcome["func_return"], "success": outcome["status"] == "success"}
