"""Lifespan of the MCP client gateway: load API-added servers from the database, then watch the config file.

Runs after every core resource is open (``host.app.open_services``). The pool itself (``McpServerPool``)
is opened by ``host.wiring``; this hook fills it: database servers first, then the config file
(``settings.resolved_mcp_config_path``), re-read whenever it changes, until shutdown.
"""

from __future__ import annotations

import logging
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import anyio

from host.services.mcp_servers import McpServersService
from mcp_client import ConfigWatcher

logger = logging.getLogger(__name__)

WATCH_INTERVAL_S = 1.0


@asynccontextmanager
async def lifespan(services: Any) -> AsyncIterator[None]:
    gateway = McpServersService(services)
    catalog = gateway.catalog
    # `${VAR}` references in the config file expand against the server's environment, read once here.
    catalog.environ = dict(os.environ)
    await gateway.load_database()
    watcher = ConfigWatcher(catalog.config_path, gateway.on_config_file, catalog.environ, WATCH_INTERVAL_S)
    async with anyio.create_task_group() as tg:
        await tg.start(watcher.run)
        logger.info("MCP gateway watching %s", catalog.config_path)
        try:
            yield
        finally:
            tg.cancel_scope.cancel()
