"""Ids for MCP servers (the 1.x API addresses servers by id, 0.8's by name).

A server added through the API has its ``mcp_servers`` row id; a server from the config file gets a
stable id derived from its name (``mcp_server-<uuid5>``), so it keeps it across restarts and edits.
"""

from __future__ import annotations

import uuid

from sqlalchemy import select

from host.errors import NotFoundError
from host.persistence.models import McpServerRow
from host.services.mcp_servers import McpServersService

_NAMESPACE = uuid.UUID("6f1d7a52-93b4-4a4e-9d51-6c3f0b8e2a17")


def file_server_id(name: str) -> str:
    return f"mcp_server-{uuid.uuid5(_NAMESPACE, name)}"


async def server_ids(gw: McpServersService) -> dict[str, str]:
    """name -> id for every server the gateway knows."""
    async with gw.db.session() as s:
        rows = dict((await s.execute(select(McpServerRow.server_name, McpServerRow.id))).tuples().all())
    ids = {}
    for view in gw.list_servers():
        ids[view.name] = file_server_id(view.name) if view.source == "config_file" else rows.get(
            view.name, file_server_id(view.name))
    return ids


async def server_name(gw: McpServersService, server_id: str) -> str:
    for name, known in (await server_ids(gw)).items():
        if known == server_id:
            return name
    raise NotFoundError(f"MCP server with ID {server_id} not found; list them with GET /v1/mcp-servers")
