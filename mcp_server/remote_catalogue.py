"""The catalogue of a running server, read from its ``/mcp`` (``agenthost mcp --url``).

The bridge serves the very catalogue tools ``/mcp`` serves (``custom__*``, ``composio__*``,
``mcp__<server>__*``): it is an MCP client of that endpoint, supervised by the same ``McpPool`` that
connects agenthost to any MCP server (reconnecting with backoff, the password redacted from every error,
``tools/list_changed`` followed on either protocol era). A change of the remote list sets
``change_event()``, so the bridge's own client is told in turn.

The connection is scoped like the bridge: ``?agent_id=`` for ``--agent``, and ``?session=`` with one key per
bridge process, so that an agent's tool-rule sequence is tracked for this bridge alone.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any
from urllib.parse import urlencode

import anyio

from mcp_client import McpPool, McpServerConfig, PoolSettings, ToolListWatcher
from mcp_server.catalogue import CATALOGUE_PREFIXES, CatalogueResult, ListedTool
from mcp_server.errors import BridgeError

logger = logging.getLogger(__name__)

SERVER = "agenthost"
CONNECT_WAIT_S = 15.0  # how long a listing waits for the first connection to the remote /mcp
CALL_TIMEOUT_S = 900.0  # a catalogue tool may run a sandboxed tool or a slow MCP server's tool


def endpoint(base_url: str, agent_id: str | None, session: str) -> str:
    query = {"agent_id": agent_id, "session": session} if agent_id else {"session": session}
    return f"{base_url.rstrip('/')}/mcp?{urlencode(query)}"


class RemoteCatalogue:
    def __init__(self, pool: McpPool, base_url: str, agent_id: str | None) -> None:
        self.pool = pool
        self.base_url = base_url
        self.agent_id = agent_id
        self._changed = anyio.Event()

    @classmethod
    @asynccontextmanager
    async def connect(cls, base_url: str, password: str | None, agent_id: str | None,
                      settings: PoolSettings | None = None) -> AsyncIterator[RemoteCatalogue]:
        """Connect (in the background) to ``base_url``'s ``/mcp``; follow its tool list until exit."""
        headers = {"Authorization": f"Bearer {password}"} if password else {}
        config = McpServerConfig(name=SERVER, transport="streamable_http", headers=headers, timeout_s=CALL_TIMEOUT_S,
                                 url=endpoint(base_url, agent_id, f"bridge-{uuid.uuid4().hex}"))
        async with McpPool([config], settings=settings) as pool, anyio.create_task_group() as tg:
            catalogue = cls(pool, base_url, agent_id)
            tg.start_soon(catalogue._follow)
            try:
                yield catalogue
            finally:
                tg.cancel_scope.cancel()

    async def _follow(self) -> None:
        async for _change in ToolListWatcher(self.pool).changes():
            self._changed, changed = anyio.Event(), self._changed
            changed.set()

    def change_event(self) -> anyio.Event:
        return self._changed

    async def _ready(self) -> None:
        with anyio.move_on_after(CONNECT_WAIT_S):
            while self.pool.status(SERVER).state == "connecting":
                await self.pool.change_event().wait()
        status = self.pool.status(SERVER)
        if status.state != "ready":
            why = status.last_error or status.state
            hint = " (pass --password or set LETTA_SERVER_PASSWORD to the server's password)" if "401" in why else ""
            raise BridgeError(f"Cannot read the tool catalogue of {self.base_url}/mcp: {why}{hint}")

    async def list(self, agent_id: str | None) -> list[ListedTool]:
        await self._ready()
        return [ListedTool(t.name, t.description, t.input_schema) for t in self.pool.list_tools(SERVER)
                if t.name.startswith(CATALOGUE_PREFIXES)]

    async def call(self, name: str, args: dict[str, Any], agent_id: str | None,
                   session_key: str) -> CatalogueResult:
        await self._ready()
        result = await self.pool.call_tool(SERVER, name, args)
        return CatalogueResult(result.status == "error", result.text)


__all__ = ["RemoteCatalogue"]
