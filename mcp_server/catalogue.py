"""The tool catalogue as the MCP server serves it, behind one small interface with two implementations.

    LocalCatalogue   (mcp_server.local_catalogue)   host services' ``ToolCatalogue`` in this process:
                                                     ``/mcp`` and ``agenthost mcp``
    RemoteCatalogue  (mcp_server.remote_catalogue)  the catalogue a running server's ``/mcp`` lists:
                                                     ``agenthost mcp --url`` (so the bridge offers the
                                                     very tools ``/mcp`` offers)

Catalogue tools are named ``custom__<tool>``, ``composio__<tool>`` and ``mcp__<server>__<tool>``.
``change_event()`` is set when the listed tools may have changed; the MCP server then sends its clients
``notifications/tools/list_changed``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol

import anyio

CATALOGUE_PREFIXES = ("custom__", "composio__", "mcp__")


@dataclass(frozen=True)
class ListedTool:
    name: str
    description: str
    input_schema: dict[str, Any]


@dataclass(frozen=True)
class CatalogueResult:
    """A call's answer: its text (an error's text when ``is_error``) and the resource URIs it changed."""

    is_error: bool
    text: str
    changed: list[str] = field(default_factory=list)


class Catalogue(Protocol):
    async def list(self, agent_id: str | None) -> list[ListedTool]: ...

    async def call(self, name: str, args: dict[str, Any], agent_id: str | None,
                   session_key: str) -> CatalogueResult: ...

    def change_event(self) -> anyio.Event: ...


__all__ = ["CATALOGUE_PREFIXES", "Catalogue", "CatalogueResult", "ListedTool"]
