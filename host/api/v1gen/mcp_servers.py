"""``/v1/mcp-servers``: Letta 1.x's MCP routes, by id, over the same gateway and pool as
``/v1/tools/mcp/servers`` (0.8's, by name). A server's tools are registered as tool rows when listed.

    GET    /v1/mcp-servers                         [server]
    POST   /v1/mcp-servers                         {server_name, config} -> server
    GET    /v1/mcp-servers/{id}                    server
    PATCH  /v1/mcp-servers/{id}                    {config} -> server
    DELETE /v1/mcp-servers/{id}                    204
    PATCH  /v1/mcp-servers/{id}/refresh            {added, updated, deleted}
    GET    /v1/mcp-servers/{id}/tools              [Tool]
    GET    /v1/mcp-servers/{id}/tools/{tool_id}    Tool
    POST   /v1/mcp-servers/{id}/tools/{tool_id}/run  {args} -> ToolExecutionResult
    GET    /v1/mcp-servers/connect/{id}            SSE: connection_attempt, then (a server that is not ready and
                                                   asks for OAuth) oauth_required, authorization_url,
                                                   waiting_for_auth; then success (tools) | error
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Body, Depends, Request, Response
from sse_starlette import EventSourceResponse

from host.api.mcp_servers import McpServers, OAuth, connect_stream, redirect_uri
from host.api.routing import SlashRouter, actor, services
from host.api.v1gen.misc import ToolExecuteRequest
from host.domain.actor import Actor
from host.errors import ForbiddenError, NotFoundError
from host.schemas.mcp_servers import server_out
from host.schemas.tools import Tool
from host.schemas.v1.mcp_servers import CreateMcpServerV1, UpdateMcpServerV1, server_v1
from host.services import Services
from host.services.mcp_oauth import Emit
from host.services.mcp_server_ids import server_ids, server_name
from host.services.mcp_servers import MCP_TOOL_TYPE, McpServersService
from host.services.tool_runs import run_tool
from mcp_client import McpTool

router = SlashRouter(prefix="/v1/mcp-servers", tags=["mcp-servers"])
Svc = Annotated[Services, Depends(services)]


async def _out(gw: McpServersService, name: str, server_id: str | None = None) -> dict[str, Any]:
    view = gw.get(name)
    sid = server_id or (await server_ids(gw))[name]
    return server_v1(sid, server_out(view.name, view.config, source=view.source, status=view.status,
                                     config_error=view.config_error, raw=view.raw))


async def _tools(gw: McpServersService, name: str, server_id: str) -> list[Tool]:
    """The server's live tools, registered as tool rows (with the server's id in their metadata)."""
    out = []
    for tool in await gw.ready_tools(name):
        row = await gw.register_tool(name, tool.name)
        meta = dict(row.metadata_ or {})
        meta["mcp"] = {**(meta.get("mcp") or {}), "server_name": name, "server_id": server_id}
        out.append(row.model_copy(update={"metadata_": meta}))
    return out


@router.get("/", operation_id="mcp_list_mcp_servers")
async def list_servers(gw: McpServers) -> list[dict[str, Any]]:
    ids = await server_ids(gw)
    return [await _out(gw, view.name, ids[view.name]) for view in gw.list_servers()]


@router.post("/", operation_id="mcp_create_mcp_server")
async def create_server(body: CreateMcpServerV1, gw: McpServers) -> dict[str, Any]:
    view = await gw.add(body.to_legacy().to_config())
    return await _out(gw, view.name)


@router.get("/connect/{mcp_server_id}", operation_id="mcp_connect_mcp_server")
async def connect_server(mcp_server_id: str, gw: McpServers, oauth: OAuth, request: Request,
                         who: Annotated[Actor, Depends(actor)]) -> EventSourceResponse:
    name = await server_name(gw, mcp_server_id)
    callback = redirect_uri(request)

    async def connect(emit: Emit) -> list[McpTool]:
        """A ready server answers its tools; one that is not (an OAuth server without a usable grant, say) is
        connected once here, authorized if it asks, and then reconnected in the pool with its new grant (its
        owner's: a config-file server's grant is every organization's, so only the admin may give it)."""
        config = gw.get(name).config
        if (await gw.pool.settle(name)).state != "ready" and config is not None and config.url is not None:
            owner = gw.catalog.owner(name)
            if owner is None and not who.is_admin:
                raise ForbiddenError(f"MCP server {name!r} is the operator's (config file): its authorization "
                                     "serves every organization, so only the admin (server password) may give it")
            await oauth.connect(config, callback, emit, owner)
            await gw.resync(name)
        return await gw.ready_tools(name)

    return connect_stream(name, connect)


@router.get("/{mcp_server_id}", operation_id="mcp_retrieve_mcp_server")
async def retrieve_server(mcp_server_id: str, gw: McpServers) -> dict[str, Any]:
    return await _out(gw, await server_name(gw, mcp_server_id), mcp_server_id)


@router.patch("/{mcp_server_id}", operation_id="mcp_update_mcp_server")
async def update_server(mcp_server_id: str, body: UpdateMcpServerV1, gw: McpServers) -> dict[str, Any]:
    name = await server_name(gw, mcp_server_id)
    view = await gw.replace(name, body.to_legacy().apply(name, gw.get(name).config))
    return await _out(gw, view.name, mcp_server_id)


@router.delete("/{mcp_server_id}", status_code=204, operation_id="mcp_delete_mcp_server")
async def delete_server(mcp_server_id: str, gw: McpServers) -> Response:
    await gw.delete(await server_name(gw, mcp_server_id))
    return Response(status_code=204)


@router.patch("/{mcp_server_id}/refresh", operation_id="mcp_refresh_mcp_server_tools")
async def refresh_server(mcp_server_id: str, gw: McpServers) -> dict[str, Any]:
    name = await server_name(gw, mcp_server_id)
    before = {t.name for t in await gw._rows_of(name)}
    outcome = await gw.resync(name)
    added: list[str] = []
    if outcome.status.state == "ready":
        added = [t.name or "" for t in await _tools(gw, name, mcp_server_id) if t.name not in before]
    return {"deleted": outcome.missing, "updated": outcome.updated, "added": added}


@router.get("/{mcp_server_id}/tools", response_model=list[Tool], operation_id="mcp_list_tools_for_mcp_server")
async def list_server_tools(mcp_server_id: str, gw: McpServers) -> list[Tool]:
    return await _tools(gw, await server_name(gw, mcp_server_id), mcp_server_id)


async def _server_tool(gw: McpServersService, svc: Services, mcp_server_id: str, tool_id: str) -> Tool:
    name = await server_name(gw, mcp_server_id)
    tool = await svc.tools.get(tool_id)
    if tool.tool_type != MCP_TOOL_TYPE or (tool.metadata_ or {}).get("mcp_server") != name:
        raise NotFoundError(f"Tool with ID {tool_id} is not a tool of MCP server {mcp_server_id} ({name})")
    return tool


@router.get("/{mcp_server_id}/tools/{tool_id}", response_model=Tool, operation_id="mcp_retrieve_mcp_tool")
async def retrieve_server_tool(mcp_server_id: str, tool_id: str, gw: McpServers, svc: Svc) -> Tool:
    return await _server_tool(gw, svc, mcp_server_id, tool_id)


@router.post("/{mcp_server_id}/tools/{tool_id}/run", operation_id="mcp_run_tool")
async def run_server_tool(mcp_server_id: str, tool_id: str, gw: McpServers, svc: Svc,
                          body: Annotated[ToolExecuteRequest | None, Body()] = None) -> dict[str, Any]:
    tool = await _server_tool(gw, svc, mcp_server_id, tool_id)
    return await run_tool(svc, tool, (body or ToolExecuteRequest()).args)
