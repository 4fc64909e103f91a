"""Lifespan of the MCP client gateway: load API-added servers from the database, then watch the config file.

Runs after every core resource is open (``host.app.open_services``). The pool itself (``McpServerPool``)
is opened by ``host.wiring``; this hook fills it: database servers first, then the config file
(``settings.resolved_mcp_config_path``), re-read whenever it changes, until shutdown. On a shared database
(Postgres, or one SQLite file served by several workers: ``Database.shared``), the ``mcp_servers`` table is
also re-read every ``DB_SYNC_INTERVAL_S`` (2 s): a server added through one process's API is soon connected on
every process, and at once on a process whose agent calls it before that re-read (the pool's ``on_unknown_server``).

It also follows the servers' tool lists (``ToolListWatcher``): when a server's tools arrive (late, at start or
after a restart) or change (``notifications/tools/list_changed``), the registered tool rows of that server
take the new descriptions and schemas (their names never change), and then the tool catalogue is marked
changed, so that the MCP server tells its clients (``notifications/tools/list_changed``).
"""

from __future__ import annotations

import logging
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import anyio

from host.services.mcp_oauth import DbOAuthStore
from host.services.mcp_servers import McpServersService
from mcp_client import ConfigWatcher, ToolListWatcher

logger = logging.getLogger(__name__)

WATCH_INTERVAL_S = 1.0
DB_SYNC_INTERVAL_S = 2.0  # AGENTHOST_MCP_DB_SYNC_SECONDS overrides it


def _sync_interval() -> float:
    raw = os.environ.get("AGENTHOST_MCP_DB_SYNC_SECONDS", "")
    try:
        return float(raw) if raw and float(raw) > 0 else DB_SYNC_INTERVAL_S
    except ValueError:
        logger.warning("AGENTHOST_MCP_DB_SYNC_SECONDS=%r is not a number of seconds; using %s", raw,
                       DB_SYNC_INTERVAL_S)
        return DB_SYNC_INTERVAL_S


async def _sync_loop(gateway: McpServersService) -> None:
    interval = _sync_interval()
    while True:
        await anyio.sleep(interval)
        try:
            if await gateway.sync_database():
                logger.info("MCP gateway: took in server changes made by another process")
        except Exception:  # a database hiccup: the next round tries again
            logger.exception("re-reading MCP servers from the database failed")


def _sync_on_miss(gateway: McpServersService) -> Any:
    async def unknown(name: str) -> None:
        try:
            if await gateway.sync_database():
                logger.info("MCP gateway: a call named server %r: took in server changes made by another process",
                            name)
        except Exception:  # the call then fails as naming no server; the periodic re-read tries again
            logger.exception("re-reading MCP servers from the database failed")
    return unknown


async def _follow_tool_lists(gateway: McpServersService, services: Any) -> None:
    async for change in ToolListWatcher(gateway.pool).changes():
        for name, tools in change.ready.items():
            try:
                updated, missing = await gateway.refresh_rows(name, tools)
            except Exception:  # a database hiccup must not stop the watcher; the next change retries
                logger.exception("refreshing the registered tools of MCP server %r failed", name)
                continue
            if missing:
                logger.warning("MCP server %r no longer lists registered tool(s) %s", name, ", ".join(missing))
        services.catalogue.mark_changed()


@asynccontextmanager
async def lifespan(services: Any) -> AsyncIterator[None]:
    gateway = McpServersService(services)
    # Remote servers with an OAuth grant connect with their owner's (host.services.mcp_oauth); set before any
    # server starts.
    gateway.pool.oauth_stores = lambda organization_id: DbOAuthStore(services.db, services.byok.box, organization_id)
    catalog = gateway.catalog
    # `${VAR}` references in the config file expand against the server's environment, read once here.
    catalog.environ = dict(os.environ)
    await gateway.load_database()
    watcher = ConfigWatcher(catalog.config_path, gateway.on_config_file, catalog.environ, WATCH_INTERVAL_S)
    async with anyio.create_task_group() as tg:
        tg.start_soon(_follow_tool_lists, gateway, services)
        await tg.start(watcher.run)
        if services.db.shared:
            tg.start_soon(_sync_loop, gateway)
            gateway.pool.on_unknown_server = _sync_on_miss(gateway)
        logger.info("MCP gateway watching %s", catalog.config_path)
        try:
            yield
        finally:
            tg.cancel_scope.cancel()
