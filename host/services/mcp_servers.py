"""The host side of the MCP client gateway: where each server comes from, and what REST can do with it.

A server has one home:

    config_file   an entry of ``settings.resolved_mcp_config_path`` (Claude Desktop format), watched:
                  edits apply without a restart; API changes are written back atomically
    database      added with ``PUT /v1/tools/mcp/servers`` (table ``mcp_servers``); survives restarts

``McpServerPool`` (an ``McpPool``) runs the union of both homes. A config-file entry shadows a
database server of the same name. Every change - an API call or a file edit - updates one home
under ``ServerCatalog.lock`` and re-applies the union with ``McpPool.apply_config``, which restarts
only the servers whose configuration changed.

MCP tools become agenthost tool rows (``tool_type="external_mcp"``, metadata ``mcp_server`` /
``mcp_tool``) named with the pool's collision-free agent name; the dispatcher routes them to
``McpPool.call_tool``.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import anyio
from sqlalchemy import select

from builtin_tools import with_heartbeat
from host.domain.actor import SYSTEM_ACTOR, acting_as
from host.errors import BadRequestError, ConflictError, InvalidRequestError, NotFoundError, UpstreamError
from host.ids import new_id
from host.persistence.models import McpServerRow
from host.persistence.tenancy import scope_org
from host.schemas.tools import Tool
from host.services.mcp_tool_names import registration_name
from host.tools.dispatcher import MCP_TOOL_TYPE
from mcp_client import (
    McpConfig,
    McpConfigEntry,
    McpPool,
    McpServerConfig,
    McpTool,
    OAuthStore,
    PoolSettings,
    ServerStatus,
    UnknownServerError,
    test_server,
    write_config,
)

logger = logging.getLogger(__name__)

ServerSource = Literal["config_file", "database"]
SETTLE_S = 10.0  # how long an API call waits for a server that is still connecting


# ---- the pool and its catalogue of homes ---------------------------------------------------------
@dataclass
class ServerCatalog:
    """Which home each server has. Mutated only under ``lock``."""

    config_path: Path
    environ: dict[str, str] = field(default_factory=dict)
    file_entries: dict[str, McpConfigEntry] = field(default_factory=dict)
    file_error: str | None = None
    db_entries: dict[str, McpConfigEntry] = field(default_factory=dict)
    db_orgs: dict[str, str | None] = field(default_factory=dict)  # a database server's organization
    lock: anyio.Lock = field(default_factory=anyio.Lock)

    def taken(self, name: str) -> bool:
        """Whether any organization has a server of this name (the pool runs servers by name)."""
        return name in self.file_entries or name in self.db_entries

    def visible(self, name: str) -> bool:
        """Config-file servers are every organization's; a database server only its organization's."""
        if name in self.file_entries:
            return True
        org = scope_org()
        return name in self.db_entries and (org is None or self.db_orgs.get(name) in (None, org))

    def source(self, name: str) -> ServerSource | None:
        if not self.visible(name):
            return None
        return "config_file" if name in self.file_entries else "database"

    def entry(self, name: str) -> McpConfigEntry:
        found = (self.file_entries.get(name) or self.db_entries.get(name)) if self.visible(name) else None
        if found is None:
            raise NotFoundError(f"MCP server {name!r} not found; list them with GET /v1/tools/mcp/servers")
        return found

    def effective(self) -> list[McpConfigEntry]:
        """Every server the pool runs (all organizations')."""
        return list({**self.db_entries, **self.file_entries}.values())

    def owner(self, name: str) -> str | None:
        """The organization a running server belongs to: a database server's; None for a config-file one
        (every organization's). Its OAuth grant is that owner's (host.services.mcp_oauth)."""
        return None if name in self.file_entries else self.db_orgs.get(name)


class McpServerPool(McpPool):
    """An ``McpPool`` that also holds the catalogue of homes; each server connects with its owner's OAuth
    grants (``oauth_stores(organization_id)``, set by the lifespan)."""

    def __init__(self, config_path: Path, *, settings: PoolSettings | None = None) -> None:
        super().__init__(settings=settings)
        self.catalog = ServerCatalog(config_path=config_path)
        self.oauth_stores: Callable[[str | None], OAuthStore] | None = None

    def oauth_store_for(self, config: McpServerConfig) -> OAuthStore | None:
        return None if self.oauth_stores is None else self.oauth_stores(self.catalog.owner(config.name))

    async def settle(self, name: str, timeout: float = SETTLE_S) -> ServerStatus:
        """Wait (bounded) until `name` has left `connecting`; its status either way."""
        with anyio.move_on_after(timeout):
            while self.status(name).state == "connecting":
                await self.change_event().wait()
        return self.status(name)


# ---- views ------------------------------------------------------------------------------------
@dataclass(frozen=True)
class ServerView:
    """One server as REST shows it: its entry (config or error), its home and its live status."""

    name: str
    source: ServerSource
    config: McpServerConfig | None
    config_error: str | None
    status: ServerStatus | None
    raw: Any = None
    file_error: str | None = None  # the config file is currently unparsable (its servers keep running)


@dataclass(frozen=True)
class ResyncOutcome:
    status: ServerStatus
    updated: list[str]
    missing: list[str]


def tool_json_schema(tool: McpTool) -> dict[str, Any]:
    """Letta's ``{name, description, parameters}`` from an MCP input schema (with request_heartbeat)."""
    parameters = dict(tool.input_schema or {})
    parameters.setdefault("type", "object")
    parameters.setdefault("properties", {})
    parameters["required"] = list(parameters.get("required") or [])
    return with_heartbeat({"name": tool.agent_name, "description": tool.description, "parameters": parameters})


# ---- operations -------------------------------------------------------------------------------
class McpServersService:
    """Operations REST calls; state lives in ``McpServerPool.catalog`` so instances are cheap."""

    def __init__(self, services: Any) -> None:
        if not isinstance(services.mcp, McpServerPool):
            raise RuntimeError("McpServersService needs services.mcp to be a McpServerPool (see host/wiring.py)")
        self.pool: McpServerPool = services.mcp
        self.catalog = self.pool.catalog
        self.db = services.db
        self.tools = services.tools
        self.agents = services.agents

    # ---- loading ------------------------------------------------------------------------------
    async def load_database(self) -> None:
        """Read API-added servers from the ``mcp_servers`` table and start them."""
        await self.sync_database()
        logger.info("MCP gateway: %d server(s) from the database", len(self.catalog.db_entries))

    async def sync_database(self) -> bool:
        """Make the database home what the ``mcp_servers`` table holds: servers that other processes sharing
        the database added, changed or deleted through their API start, restart or stop here too. Returns
        whether anything changed. Read under the catalog lock, so a change made here meanwhile is never
        undone by a stale read."""
        async with self.catalog.lock:
            with acting_as(SYSTEM_ACTOR):  # every organization's servers run in the one pool
                async with self.db.session() as s:
                    rows = list((await s.execute(select(McpServerRow))).scalars())
            fresh = {row.server_name: _entry_from_row(row) for row in rows}
            self.catalog.db_orgs = {row.server_name: row.organization_id for row in rows}
            if fresh == self.catalog.db_entries:
                return False
            self.catalog.db_entries = fresh
            await self._apply()
        return True

    async def on_config_file(self, config: McpConfig) -> None:
        """A new parse of the config file (from the watcher): replace the config-file home."""
        async with self.catalog.lock:
            if config.error is not None:
                if self.catalog.config_path.exists():  # unreadable or malformed: keep what runs
                    self.catalog.file_error = config.error
                    return
                config = McpConfig([])
            self.catalog.file_error = None
            self.catalog.file_entries = {entry.name: entry for entry in config.entries}
            for name in self.catalog.file_entries.keys() & self.catalog.db_entries.keys():
                logger.warning("MCP server %r is in both %s and the database; the file wins",
                               name, self.catalog.config_path)
            await self._apply()

    async def _apply(self) -> None:
        await self.pool.apply_config(self.catalog.effective())

    # ---- queries ------------------------------------------------------------------------------
    def _view(self, name: str) -> ServerView:
        entry = self.catalog.entry(name)
        try:
            status: ServerStatus | None = self.pool.status(name)
        except UnknownServerError:
            status = None
        source = self.catalog.source(name) or "database"
        file_error = self.catalog.file_error if source == "config_file" else None
        return ServerView(name, source, entry.config, entry.error, status, entry.raw, file_error)

    def list_servers(self) -> list[ServerView]:
        names = {entry.name for entry in self.catalog.effective() if self.catalog.visible(entry.name)}
        return [self._view(name) for name in sorted(names)]

    def get(self, name: str) -> ServerView:
        return self._view(name)

    async def ready_tools(self, name: str) -> list[McpTool]:
        """The tools of `name`, waiting (bounded) for a server that is still connecting."""
        self.catalog.entry(name)
        status = await self.pool.settle(name)
        if status.state != "ready":
            why = f": {status.last_error}" if status.last_error else ""
            raise UpstreamError(f"MCP server {name!r} is not ready (state {status.state}){why}")
        return self.pool.list_tools(name)

    # ---- membership ---------------------------------------------------------------------------
    async def add(self, config: McpServerConfig) -> ServerView:
        """Add a server to the database home; an identical re-add is a no-op, a different one a 409."""
        async with self.catalog.lock:
            source = self.catalog.source(config.name)
            if source is None and self.catalog.taken(config.name):  # another organization's: say nothing more
                raise ConflictError(f"MCP server name {config.name!r} is taken; choose another name")
            if source is not None:
                if self.catalog.entry(config.name).config == config:
                    return self._view(config.name)
                hint = "edit it in the config file" if source == "config_file" else "use PATCH to change it"
                raise ConflictError(f"MCP server {config.name!r} already exists ({source}); {hint}")
            async with self.db.transaction() as s:
                row = McpServerRow(id=new_id("mcp_server"), server_name=config.name, server_type=config.transport,
                                   config=config.model_dump(mode="json"))
                s.add(row)
            self.catalog.db_entries[config.name] = McpConfigEntry(config.name, config)
            self.catalog.db_orgs[config.name] = row.organization_id
            await self._apply()
        await self.pool.settle(config.name)
        return self._view(config.name)

    async def replace(self, name: str, config: McpServerConfig) -> ServerView:
        """Change a server in its own home (database row, or the config file rewritten atomically)."""
        if config.name != name:
            raise InvalidRequestError(f"renaming MCP server {name!r} to {config.name!r} is not supported; "
                                      "DELETE it and PUT the new name")
        async with self.catalog.lock:
            source = self.catalog.source(name)
            self.catalog.entry(name)
            if source == "config_file":
                entries = dict(self.catalog.file_entries)
                entries[name] = McpConfigEntry(name, config)
                await self._write_file(entries)
                self.catalog.file_entries = entries
            else:
                async with self.db.transaction() as s:
                    row = (await s.execute(select(McpServerRow).where(McpServerRow.server_name == name))).scalar_one()
                    row.server_type = config.transport
                    row.config = config.model_dump(mode="json")
                self.catalog.db_entries[name] = McpConfigEntry(name, config)
            await self._apply()
        await self.pool.settle(name)
        return self._view(name)

    async def delete(self, name: str) -> None:
        async with self.catalog.lock:
            source = self.catalog.source(name)
            self.catalog.entry(name)
            if source == "config_file":
                entries = {k: v for k, v in self.catalog.file_entries.items() if k != name}
                await self._write_file(entries)
                self.catalog.file_entries = entries
            else:
                async with self.db.transaction() as s:
                    row = (await s.execute(select(McpServerRow).where(McpServerRow.server_name == name))).scalar_one()
                    await s.delete(row)
                del self.catalog.db_entries[name]
            await self._apply()

    async def _write_file(self, entries: dict[str, McpConfigEntry]) -> None:
        if self.catalog.file_error is not None:
            raise ConflictError(f"{self.catalog.config_path} cannot be parsed ({self.catalog.file_error}); "
                                "fix the file before changing its servers through the API")
        await anyio.to_thread.run_sync(write_config, self.catalog.config_path, list(entries.values()),
                                       self.catalog.environ)

    # ---- actions ------------------------------------------------------------------------------
    async def resync(self, name: str) -> ResyncOutcome:
        """Reconnect now (or re-list tools), then refresh the schema of this server's registered tools."""
        entry = self.catalog.entry(name)
        if entry.config is not None and not entry.config.disabled:
            change = self.pool.change_event()  # ready: the re-listed catalogue; else: reconnecting
            await self.pool.resync(name)
            with anyio.move_on_after(SETTLE_S):
                await change.wait()
        status = await self.pool.settle(name)
        updated: list[str] = []
        missing: list[str] = []
        if status.state == "ready":
            updated, missing = await self.refresh_rows(name, self.pool.list_tools(name))
        return ResyncOutcome(status, updated, missing)

    async def refresh_rows(self, name: str, live_tools: list[McpTool]) -> tuple[list[str], list[str]]:
        """Give the registered tools of server `name` the description and schema it lists now (names stay).

        Returns the names of the rows refreshed (those already current included) and of those whose tool
        the server no longer lists (kept, so that agents' tool rules naming them stay valid). A row that
        is already current is not written (on a shared database every process follows the same server)."""
        live = {tool.name: tool for tool in live_tools}
        updated: list[str] = []
        missing: list[str] = []
        for row in await self._rows_of(name):
            tool = live.get((row.metadata_ or {}).get("mcp_tool", ""))
            if tool is None:
                missing.append(row.name or "")
                continue
            schema = {**tool_json_schema(tool), "name": row.name}
            if row.json_schema != schema or (row.description or "") != tool.description:
                await self.tools.refresh(row.id, description=tool.description, json_schema=schema)
            updated.append(row.name or "")
        return updated, missing

    async def _rows_of(self, server: str) -> list[Tool]:
        rows = await self.tools.list(limit=None)
        return [t for t in rows if t.tool_type == MCP_TOOL_TYPE and (t.metadata_ or {}).get("mcp_server") == server]

    async def register_tool(self, server: str, tool_name: str) -> Tool:
        tools = await self.ready_tools(server)
        tool = next((t for t in tools if t.name == tool_name), None)
        if tool is None:
            known = ", ".join(sorted(t.name for t in tools)) or "none"
            raise NotFoundError(f"MCP server {server!r} has no tool {tool_name!r} (it has: {known})")
        return await self._register(tool)

    async def _register(self, tool: McpTool) -> Tool:
        name = await registration_name(self.tools, tool, lambda server: self.catalog.source(server) is not None)
        metadata = {"mcp_server": tool.server, "mcp_tool": tool.name, "mcp": {"server_name": tool.server}}
        return await self.tools.register(name=name, tool_type=MCP_TOOL_TYPE, description=tool.description,
                                         json_schema={**tool_json_schema(tool), "name": name},
                                         tags=[f"mcp:{tool.server}"], metadata=metadata)

    async def attach_server(self, server: str, agent_id: str) -> list[Tool]:
        """Register every tool of `server` and attach them all to the agent."""
        await self.agents.exists(agent_id)
        registered = [await self._register(tool) for tool in await self.ready_tools(server)]
        for tool in registered:
            await self.agents.attach_tool(agent_id, tool.id)
        return registered

    async def detach_server(self, server: str, agent_id: str) -> list[Tool]:
        """Detach from the agent every registered tool of `server`."""
        self.catalog.entry(server)
        attached = {t.id for t in await self.agents.list_tools(agent_id)}
        detached = [t for t in await self._rows_of(server) if t.id in attached]
        for tool in detached:
            await self.agents.detach_tool(agent_id, tool.id)
        return detached

    async def test(self, config: McpServerConfig, timeout_s: float = 30.0) -> list[McpTool]:
        ok, outcome = await test_server(config, timeout_s=min(timeout_s, config.timeout_s))
        if not ok:
            raise BadRequestError(f"cannot connect to MCP server {config.name!r}: {outcome}")
        assert isinstance(outcome, list)
        return outcome


def _entry_from_row(row: McpServerRow) -> McpConfigEntry:
    from pydantic import ValidationError

    try:
        return McpConfigEntry(row.server_name, McpServerConfig.model_validate({**row.config, "name": row.server_name}))
    except ValidationError as error:
        reason = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in error.errors())
        return McpConfigEntry(row.server_name, None, f"database row for {row.server_name!r} is invalid: {reason}",
                              row.config)

