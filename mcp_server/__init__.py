"""agenthost as an MCP server: agents, memory and the tool catalogue over MCP.

Two ways in: ``agenthost mcp`` (stdio; local database, or ``--url`` to bridge to a running server over
REST) and ``/mcp`` on the REST server (streamable HTTP, behind the server password).

Public surface:

    mount(app, settings)      add /mcp to the REST app (called by host.app.create_app)
    lifespan(services)        area hook run inside open_services (the /mcp endpoint runs from mount)
    AgentHostMcp              the MCP server over a Backend (+ the services' ToolCatalogue)
    LocalBackend, RestBackend the two backends
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from mcp_server.errors import BridgeError, McpServerError, ToolFailure

__all__ = ["BridgeError", "McpServerError", "ToolFailure", "lifespan", "mount"]


def mount(app: Any, settings: Any) -> Any:
    """Mount the streamable-HTTP MCP endpoint at /mcp on the REST app."""
    from mcp_server.http import mount as mount_http

    return mount_http(app, settings)


@asynccontextmanager
async def lifespan(services: Any) -> AsyncIterator[None]:
    """Nothing to open here: the /mcp session manager runs in the app lifespan that ``mount`` wraps
    (it needs the app), and ``agenthost mcp`` runs its own server inside ``open_services``."""
    yield
