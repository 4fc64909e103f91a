"""MCP over streamable HTTP at ``/mcp`` on the REST app (behind the same password middleware).

``mount`` adds the route and wraps the app's lifespan so the SDK's session manager (which owns a task
group for the long-lived MCP sessions) runs inside it, after the host services are open and closing first.
"""

from __future__ import annotations

import json
import logging
from contextlib import asynccontextmanager
from typing import Any, AsyncIterator

from mcp.server.streamable_http_manager import StreamableHTTPSessionManager
from mcp.server.transport_security import TransportSecuritySettings
from starlette.routing import Route
from starlette.types import Receive, Scope, Send

from host.services import Services
from host.version import __version__

from mcp_server.gateway import Gateway
from mcp_server.local import LocalBackend
from mcp_server.server import AgentHostMcp

logger = logging.getLogger(__name__)

MCP_PATH = "/mcp"


class McpEndpoint:
    """The ASGI endpoint; serves once ``running(services)`` has started the session manager."""

    def __init__(self) -> None:
        self._manager: StreamableHTTPSessionManager | None = None
        self.mcp: AgentHostMcp | None = None

    @asynccontextmanager
    async def running(self, services: Services) -> AsyncIterator[AgentHostMcp]:
        mcp = AgentHostMcp(LocalBackend(services), Gateway(services), version=__version__)
        # The password middleware guards the endpoint; the Host/Origin allowlist of the SDK would also
        # reject legitimate clients of a server bound to a public interface, so it stays off.
        manager = StreamableHTTPSessionManager(
            app=mcp.server, security_settings=TransportSecuritySettings(enable_dns_rebinding_protection=False))
        async with manager.run():
            self._manager, self.mcp = manager, mcp
            try:
                yield mcp
            finally:
                self._manager, self.mcp = None, None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        manager = self._manager
        if manager is None:
            body = json.dumps({"detail": "The MCP endpoint is not running (the server is starting or stopping)"})
            await send({"type": "http.response.start", "status": 503,
                        "headers": [(b"content-type", b"application/json")]})
            await send({"type": "http.response.body", "body": body.encode()})
            return
        await manager.handle_request(scope, receive, send)


def mount(app: Any, settings: Any) -> McpEndpoint:
    endpoint = McpEndpoint()
    app.router.routes.append(Route(MCP_PATH, endpoint=endpoint))
    app.router.routes.append(Route(MCP_PATH + "/", endpoint=endpoint))
    original = app.router.lifespan_context

    @asynccontextmanager
    async def lifespan(asgi_app: Any) -> AsyncIterator[Any]:
        async with original(asgi_app) as state:
            async with endpoint.running(state["services"]):
                yield state

    app.router.lifespan_context = lifespan
    return endpoint


__all__ = ["MCP_PATH", "McpEndpoint", "mount"]
