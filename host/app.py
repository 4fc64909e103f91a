"""The application: ``create_app(settings)``; the lifespan owns every resource.

One ``AsyncExitStack`` opens, in order: the database (migrated), the sandbox, the MCP client pool,
the agent runner's task group; and closes them in reverse. Handlers read the typed ``Services``.
"""

from __future__ import annotations

import logging
from contextlib import AsyncExitStack, asynccontextmanager
from functools import partial
from typing import Any, AsyncIterator

from fastapi import Depends, FastAPI

from host.api import (
    agents,
    blocks,
    composio,
    identities,
    mcp_servers,
    memory,
    messages_send,
    models,
    sandbox_configs,
    sources,
    tool_rules,
    tools,
)
from host.api.auth import PasswordMiddleware
from host.api.body_limit import BodyLimitMiddleware
from host.api.bounds import bounded_query_ints
from host.api.errors import LastResortMiddleware, install_error_handlers
from host.api.nul_guard import NulGuardMiddleware
from host.api.routing import TrailingSlashMiddleware
from host.persistence.db import open_database
from host.providers import ProviderRegistry
from host.services import Services, build_core
from host.settings import Settings
from host.tooling import open_tool_layer
from host.version import __version__

logger = logging.getLogger(__name__)

ROUTERS = (models, agents, memory, messages_send, blocks, tool_rules, mcp_servers, composio, sandbox_configs, tools,
           identities, sources)


@asynccontextmanager
async def open_services(settings: Settings, *, serving: bool = False) -> AsyncIterator[Services]:
    """Every resource the server needs, opened and closed in one place (also used by ``agenthost mcp``).

    ``serving``: this is ``agenthost serve``, the one server of a SQLite data directory, which closes every
    run left unfinished there at start-up (host.services.recovery)."""
    async with AsyncExitStack() as stack:
        db = await stack.enter_async_context(open_database(
            settings.database_url, pool_size=settings.pg_pool_size, max_overflow=settings.pg_max_overflow,
            pool_timeout=settings.pg_pool_timeout, pool_recycle=settings.pg_pool_recycle))
        core = build_core(settings, db, ProviderRegistry(settings.providers))
        from builtin_tools import all_builtins

        await core["tools"].sync_builtins(all_builtins())
        layer = await stack.enter_async_context(open_tool_layer(settings, core))
        services = Services(**core, runner=layer.runner, dispatcher=layer.dispatcher, sandboxes=layer.sandboxes,
                            mcp=layer.mcp)
        # Areas with resources of their own (config watcher, ingestion workers, the MCP endpoint).
        import mcp_server
        from host.services import mcp_servers_lifespan, recovery, sources_lifespan

        for area in (partial(recovery.lifespan, exclusive=serving), mcp_servers_lifespan.lifespan,
                     sources_lifespan.lifespan, mcp_server.lifespan):
            await stack.enter_async_context(area(services))
        logger.info("agenthost %s ready on %s", __version__, "postgres" if db.is_postgres else "sqlite")
        yield services


def create_app(settings: Settings) -> FastAPI:
    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[dict[str, Any]]:
        async with open_services(settings, serving=True) as services:
            yield {"services": services}

    app = FastAPI(
        title="agenthost",
        version=__version__,
        description="A self-hosted, MCP-native host for stateful LLM agents, speaking Letta's REST API.",
        lifespan=lifespan,
        redirect_slashes=False,
        dependencies=[Depends(bounded_query_ints)],
    )
    install_error_handlers(app)
    for module in ROUTERS:
        app.include_router(module.router)
    import mcp_server

    mcp_server.mount(app, settings)
    app.add_middleware(TrailingSlashMiddleware, routers=[module.router for module in ROUTERS])
    app.add_middleware(NulGuardMiddleware)
    if settings.secure and settings.server_password:
        app.add_middleware(PasswordMiddleware, password=settings.server_password)
    app.add_middleware(BodyLimitMiddleware, limits=settings.limits)
    app.add_middleware(LastResortMiddleware)  # outermost: the last added
    return app


__all__ = ["create_app", "open_services"]
