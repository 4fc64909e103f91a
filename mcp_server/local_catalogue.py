"""The catalogue over host services' ``ToolCatalogue`` in this process (``/mcp`` and ``agenthost mcp``)."""

from __future__ import annotations

from typing import Any

import anyio

from host.services.tool_catalogue import ToolCatalogue
from mcp_server.backend import ToolRunOutcome
from mcp_server.catalogue import CatalogueResult, ListedTool
from mcp_server.local import host_errors
from mcp_server.uris import block_uri


class LocalCatalogue:
    def __init__(self, catalogue: ToolCatalogue) -> None:
        self.catalogue = catalogue

    async def list(self, agent_id: str | None) -> list[ListedTool]:
        async with host_errors():
            tools = await self.catalogue.tools(agent_id)
        return [ListedTool(t.public_name, t.description, t.input_schema) for t in tools]

    async def call(self, name: str, args: dict[str, Any], agent_id: str | None,
                   session_key: str) -> CatalogueResult:
        async with host_errors():
            tool = next((t for t in await self.catalogue.tools(agent_id) if t.public_name == name), None)
            if tool is None:
                where = f"agent {agent_id}'s tools" if agent_id else "the tool catalogue"
                return CatalogueResult(True, f"Unknown tool {name!r}: it is not in {where}; call tools/list again")
            done = await self.catalogue.call(tool, args, agent_id, session_key)
        changed = [block_uri(agent_id, label) for label in done.changed_blocks] if agent_id else []
        outcome = ToolRunOutcome(done.status, done.text, done.stdout, done.stderr)
        return CatalogueResult(outcome.status != "success", outcome.render(), changed)

    def change_event(self) -> anyio.Event:
        return self.catalogue.change_event()


__all__ = ["LocalCatalogue"]
