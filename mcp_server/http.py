"""MCP over streamable HTTP at ``/mcp`` on the REST app (behind the same password middleware).

``mount`` adds the route and wraps the app's lifespan so the SDK's session manager (which owns a task
group for the long-lived MCP sessions) runs inside it, after the host services are open and closing first.

The MCP SDK and the server built on it take about 0.4 s to import and about 30 MB of memory (its protocol
types alone, every revision's pydantic models, are about 24 MB), so they load only when the endpoint is first
asked for: the lifespan yields at once, and the first request to ``/mcp`` has a background task import them
in a worker thread and start the session manager; requests wait for it. A server nobody reaches over MCP
never holds them. The MCP client pool loads the SDK when a server is configured, and litellm's warm-up loads
it before litellm (litellm imports parts of it on the event loop; see ``host.llm.client.warm_up``), each
under the one lock heavy imports take.
"""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, Any

import anyio
from starlette.routing import Route
from starlette.types import Receive, Scope, Send

if TYPE_CHECKING:
    from mcp.server.streamable_http_manager import StreamableHTTPSessionManager

    from host.app import AppState
    from host.services import Services
    from mcp_server.server import AgentHostMcp

logger = logging.getLogger(__name__)

MCP_PATH = "/mcp"
START_TIMEOUT_S = 60.0

Built = tuple["AgentHostMcp", "StreamableHTTPSessionManager"]


def load_server() -> Callable[[Services], Built]:
    """Import the SDK and the MCP server (blocking: run in a worker thread); return what builds them."""
    from mcp_client import HEAVY_IMPORTS, load_sdk

    # Under the heavy-import lock, like the client pool's loading and litellm's warm-up: modules imported
    # from two threads at once can come out half-initialised.
    with HEAVY_IMPORTS:
        load_sdk()
        from mcp.server.streamable_http_manager import StreamableHTTPSessionManager
        from mcp.server.transport_security import TransportSecuritySettings

        from host.services.tenants import acting_for_request
        from host.version import __version__
        from mcp_server.local import LocalBackend
        from mcp_server.local_catalogue import LocalCatalogue
        from mcp_server.server import AgentHostMcp

    def build(services: Services) -> Built:
        mcp = AgentHostMcp(LocalBackend(services), LocalCatalogue(services.catalogue), version=__version__,
                           caller=acting_for_request)  # each message acts as its request's user
        # The app's Host/Origin guard (host/api/host_guard.py) and password middleware guard this endpoint
        # like every other route; the SDK's own allowlist would duplicate the guard, so it stays off.
        manager = StreamableHTTPSessionManager(
            app=mcp.server, security_settings=TransportSecuritySettings(enable_dns_rebinding_protection=False)
        )
        return mcp, manager

    return build


class McpEndpoint:
    """The ASGI endpoint; serves once ``running(services)`` has started the session manager."""

    def __init__(self) -> None:
        self._manager: StreamableHTTPSessionManager | None = None
        self._started: anyio.Event | None = None
        self._wanted: anyio.Event | None = None
        self._failure: str | None = None
        self.mcp: AgentHostMcp | None = None

    @asynccontextmanager
    async def running(self, services: Services) -> AsyncIterator[None]:
        """Start the MCP server in the background; stop it on exit."""
        started, wanted = anyio.Event(), anyio.Event()
        self._started, self._wanted, self._failure = started, wanted, None
        try:
            async with anyio.create_task_group() as tg:
                tg.start_soon(self._serve, services, started, wanted)
                try:
                    yield
                finally:
                    tg.cancel_scope.cancel()
        finally:
            self._manager, self.mcp, self._started, self._wanted = None, None, None, None

    async def _serve(self, services: Services, started: anyio.Event, wanted: anyio.Event) -> None:
        await wanted.wait()  # the first request to /mcp
        try:
            build = await anyio.to_thread.run_sync(load_server)
            mcp, manager = build(services)
            async with manager.run(), anyio.create_task_group() as tg:
                tg.start_soon(mcp.follow_catalogue)
                self._manager, self.mcp = manager, mcp
                started.set()
                logger.debug("MCP endpoint %s running", MCP_PATH)
                await anyio.sleep_forever()
        except Exception as error:
            logger.exception("the MCP endpoint %s could not start", MCP_PATH)
            self._failure = f"{type(error).__name__}: {error}"
        finally:
            self._manager, self.mcp = None, None
            started.set()  # never leave a request waiting

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        started, wanted = self._started, self._wanted
        if started is not None and wanted is not None and not started.is_set():
            wanted.set()
            with anyio.move_on_after(START_TIMEOUT_S):
                await started.wait()
        manager = self._manager
        if manager is None:
            if self._failure is not None:
                await _error(send, 500, f"The MCP endpoint failed to start: {self._failure}")
            else:
                await _error(send, 503, "The MCP endpoint is not running (the server is starting or stopping)")
            return
        await manager.handle_request(scope, receive, send)


async def _error(send: Send, status: int, detail: str) -> None:
    body = json.dumps({"detail": detail}).encode()
    await send({"type": "http.response.start", "status": status, "headers": [(b"content-type", b"application/json")]})
    await send({"type": "http.response.body", "body": body})


def mount(app: Any, settings: Any) -> McpEndpoint:
    endpoint = McpEndpoint()
    app.router.routes.append(Route(MCP_PATH, endpoint=endpoint))
    app.router.routes.append(Route(MCP_PATH + "/", endpoint=endpoint))
    original = app.router.lifespan_context

    @asynccontextmanager
    async def lifespan(asgi_app: Any) -> AsyncIterator[AppState]:
        async with original(asgi_app) as state:
            async with endpoint.running(state["services"]):
                yield state

    app.router.lifespan_context = lifespan
    return endpoint


__all__ = ["MCP_PATH", "McpEndpoint", "load_server", "mount"]
