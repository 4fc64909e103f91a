"""The application: ``create_app(settings)``; the lifespan owns every resource.

One ``AsyncExitStack`` opens, in order: the database (migrated), the sandbox, the MCP client pool,
the agent runner's task group; and closes them in reverse. Handlers read the typed ``Services``.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from functools import partial
from typing import TypedDict

import anyio
from fastapi import Depends, FastAPI
from starlette.middleware import Middleware

from host.api import (
    admin,
    agent_ops,
    agents,
    blocks,
    chat_completions,
    compat,
    composio,
    groups,
    identities,
    mcp_oauth,
    mcp_servers,
    memory,
    messages_send,
    models,
    providers,
    sandbox_configs,
    sources,
    tool_rules,
    tools,
    voice,
)
from host.api import (
    batches as batches_api,
)
from host.api import (
    telemetry as telemetry_api,
)
from host.api.auth import PasswordMiddleware
from host.api.body_limit import BodyLimitMiddleware
from host.api.bounds import bounded_query_ints
from host.api.errors import LastResortMiddleware, install_error_handlers
from host.api.host_guard import HostPolicy, guard_middleware
from host.api.nul_guard import NulGuardMiddleware
from host.api.routing import TrailingSlashMiddleware
from host.api.telemetry import RequestMetricsMiddleware
from host.api.v1gen import archives as archives_v1
from host.api.v1gen import conversation_ops as conversation_ops_v1
from host.api.v1gen import conversations as conversations_v1
from host.api.v1gen import folders as folders_v1
from host.api.v1gen import generate as generate_v1
from host.api.v1gen import identity_links as identity_links_v1
from host.api.v1gen import mcp_servers as mcp_servers_v1
from host.api.v1gen import misc as misc_v1
from host.api.v1gen import run_stream as run_stream_v1
from host.llm.registry import ProviderRegistry
from host.persistence.db import open_database
from host.services import Services, build_core
from host.services.telemetry import Telemetry
from host.settings import Settings
from host.ui import mount as mount_ui
from host.version import __version__
from host.wiring import open_tool_layer

logger = logging.getLogger(__name__)

# A turn's routes first: FastAPI tries routes in this order (no route of the three moved behind it matches a path
# of its; checked when it moved).
ROUTERS = (messages_send, models, agents, memory, blocks, tool_rules, mcp_servers, mcp_oauth, composio, sandbox_configs,
           tools, identities, sources, compat, groups, voice, chat_completions, batches_api, agent_ops, admin, providers,
           telemetry_api,
           # Letta's 1.x generation: new paths over the same services (host/api/v1gen)
           misc_v1, mcp_servers_v1, archives_v1, folders_v1, run_stream_v1, conversations_v1,
           identity_links_v1, generate_v1, conversation_ops_v1)


@asynccontextmanager
async def open_services(settings: Settings, telemetry: Telemetry | None = None) -> AsyncIterator[Services]:
    """Every resource the server needs, opened and closed in one place (also used by ``agenthost mcp``).

    ``settings.recover_interrupted``: this is ``agenthost serve``, the one server of a SQLite data directory,
    which closes every run left unfinished there at start-up (host.services.recovery) when it runs one worker;
    each of several workers (``settings.workers``, one SQLite file) and ``agenthost mcp`` beside a server close
    only runs whose lease expired."""
    async with AsyncExitStack() as stack:
        db = await stack.enter_async_context(open_database(
            settings.database_url, workers_share_file=settings.workers > 1, pool_size=settings.pg_pool_size,
            max_overflow=settings.pg_max_overflow, pool_timeout=settings.pg_pool_timeout,
            pool_recycle=settings.pg_pool_recycle, idle_in_transaction_s=settings.pg_idle_in_transaction_s))
        telemetry = telemetry or Telemetry()
        if settings.otel:  # OTEL_EXPORTER_OTLP_ENDPOINT is set: the SDK is imported only then
            from host.services.tracing import start_tracing

            provider = start_tracing(settings.otel)
            if provider is not None:
                telemetry.tracer = provider.get_tracer("agenthost", __version__)
                stack.push_async_callback(anyio.to_thread.run_sync, provider.shutdown)
        core = build_core(settings, db, ProviderRegistry(settings.providers))
        from builtin_tools import all_builtins

        await core.tools.sync_builtins(all_builtins())
        layer = await stack.enter_async_context(open_tool_layer(settings, core, telemetry))
        services = Services.of(core, layer)
        # Areas with resources of their own (config watcher, ingestion workers, the MCP endpoint).
        import mcp_server
        from host.services import batches, mcp_servers_lifespan, recovery, sources_lifespan

        # Exclusive: this process alone uses the database, so whatever runs and batches it finds active were
        # left by a stopped server (not by a live worker beside it).
        exclusive = settings.recover_interrupted and not db.shared
        for area in (partial(recovery.lifespan, exclusive=exclusive),
                     partial(batches.lifespan, exclusive=exclusive), mcp_servers_lifespan.lifespan,
                     sources_lifespan.lifespan, mcp_server.lifespan):
            await stack.enter_async_context(area(services))
        logger.info("agenthost %s ready on %s", __version__, "postgres" if db.is_postgres else "sqlite")
        yield services


class AppState(TypedDict):
    """The lifespan's state: what every request handler may read (``request.state.services``)."""

    services: Services


def middleware(settings: Settings, telemetry: Telemetry | None = None) -> list[Middleware]:
    """The app's middleware, outermost first (add new layers here)."""
    # Outermost: refuse a foreign Host/Origin before anything else runs; then CORS for the allowed origins.
    # LastResort is outermost of all: a 500 is answered without costing the client its connection.
    stack = [Middleware(LastResortMiddleware)]
    stack += guard_middleware(HostPolicy.for_bind(settings.bind_host, settings.allowed_hosts,
                                                  settings.acceptable_origins))
    # Always on: resolves the request's actor (password, user key, user_id header); checks the password
    # only when the server has one.
    password = settings.server_password if settings.secure and settings.server_password else None
    stack.append(Middleware(PasswordMiddleware, password=password))
    if telemetry is not None:  # inside the password check: refused requests are not counted as routes
        stack.append(Middleware(RequestMetricsMiddleware, telemetry=telemetry))
    stack.append(Middleware(BodyLimitMiddleware, limits=settings.limits))
    stack.append(Middleware(NulGuardMiddleware))
    stack.append(Middleware(TrailingSlashMiddleware, routers=[module.router for module in ROUTERS]))
    return stack


def create_app(settings: Settings) -> FastAPI:
    telemetry = Telemetry()  # this app's metrics registry (GET /metrics)

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[AppState]:
        async with open_services(settings, telemetry) as services:
            yield AppState(services=services)

    app = FastAPI(
        title="agenthost",
        version=__version__,
        description="A self-hosted, MCP-native host for stateful LLM agents, speaking Letta's REST API.",
        lifespan=lifespan,
        redirect_slashes=False,
        middleware=middleware(settings, telemetry),
        dependencies=[Depends(bounded_query_ints)],
        # HTTP spans and metrics are RequestMetricsMiddleware's: FastAPI's own OpenTelemetry would add a second
        # server span to every request once tracing sets the global provider (and asks the providers on each
        # request whether it should).
        telemetry={"tracing": False, "metrics": False, "logs": False},
    )
    app.state.telemetry = telemetry
    install_error_handlers(app)
    for module in ROUTERS:
        app.include_router(module.router)
    import mcp_server

    mcp_server.mount(app, settings)
    mount_ui(app)
    return app


__all__ = ["AppState", "create_app", "middleware", "open_services"]
