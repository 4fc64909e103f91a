"""The application: ``create_app(settings)``; the lifespan owns every resource."""

from __future__ import annotations

import logging
from contextlib import AsyncExitStack, asynccontextmanager
from typing import Any, AsyncIterator

from fastapi import FastAPI

from host.api import agents, blocks, identities, memory, models, tools
from host.api.auth import PasswordMiddleware
from host.api.errors import install_error_handlers
from host.persistence.db import open_database
from host.providers import ProviderRegistry
from host.services import build_services
from host.settings import Settings
from host.version import __version__

logger = logging.getLogger(__name__)


def create_app(settings: Settings) -> FastAPI:
    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[dict[str, Any]]:
        async with AsyncExitStack() as stack:
            db = await stack.enter_async_context(open_database(
                settings.database_url, pool_size=settings.pg_pool_size, max_overflow=settings.pg_max_overflow,
                pool_timeout=settings.pg_pool_timeout, pool_recycle=settings.pg_pool_recycle))
            registry = ProviderRegistry(settings.providers)
            services = build_services(settings, db, registry)
            from builtin_tools import all_builtins

            await services.tools.sync_builtins(all_builtins())
            logger.info("agenthost %s ready on %s", __version__, "postgres" if db.is_postgres else "sqlite")
            yield {"services": services}

    app = FastAPI(
        title="agenthost",
        version=__version__,
        description="A self-hosted, MCP-native host for stateful LLM agents, speaking Letta's REST API.",
        lifespan=lifespan,
        redirect_slashes=False,
    )
    install_error_handlers(app)
    for module in (models, agents, memory, blocks, tools, identities):
        app.include_router(module.router)
    if settings.secure and settings.server_password:
        app.add_middleware(PasswordMiddleware, password=settings.server_password)
    return app
