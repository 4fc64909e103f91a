"""The name an MCP tool is registered under: decided when the tool is added, never changed afterwards.

    1. the tool is registered already (same server, same MCP tool)  -> the name it has
    2. its plain name (``add``) is free                               -> ``add``
    3. ``add`` is held by an MCP tool of a server that no longer exists -> ``add`` (that leftover is
       replaced, as Letta's upsert does)
    4. otherwise (another live server's tool, or a custom or built-in tool, holds it)
                                                                      -> ``<server>__add``

Unlike the pool's catalogue names, which depend on every server currently connected, this depends only
on what is registered at the time of the add: registering a second server with an ``add`` tool does not
rename the ``add`` already registered, nor turn a newly added ``add`` into ``<server>__add`` unless the
plain name is taken.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable
from typing import Any, Protocol

from host.errors import ConflictError
from host.schemas.tools import Tool
from mcp_client import McpTool

MCP_TOOL_TYPE = "external_mcp"
MAX_NAME = 64  # what every model API accepts as a function name: [a-zA-Z0-9_-]{1,64}
_INVALID = re.compile(r"[^a-zA-Z0-9_-]")


def _sanitize(text: str) -> str:
    return _INVALID.sub("_", text) or "_"


def _bounded(name: str, server: str, tool: str) -> str:
    if len(name) <= MAX_NAME:
        return name
    digest = hashlib.sha256(f"{server}\0{tool}".encode()).hexdigest()[:8]
    return f"{name[: MAX_NAME - 9]}_{digest}"


class ToolLookup(Protocol):
    async def get_by_name(self, name: str) -> Tool | None: ...

    async def list(self, *, limit: int | None = 50) -> list[Tool]: ...


def _origin(row: Tool) -> tuple[Any, Any] | None:
    if row.tool_type != MCP_TOOL_TYPE:
        return None
    meta = row.metadata_ or {}
    return meta.get("mcp_server"), meta.get("mcp_tool")


async def registration_name(tools: ToolLookup, tool: McpTool, server_exists: Callable[[str], bool]) -> str:
    """The name ``tool`` (of server ``tool.server``) is registered under (see the module docstring)."""
    for row in await tools.list(limit=None):
        if _origin(row) == (tool.server, tool.name) and row.name:
            return row.name
    plain = _bounded(_sanitize(tool.name), tool.server, tool.name)
    holder = await tools.get_by_name(plain)
    if holder is None:
        return plain
    origin = _origin(holder)
    if origin is not None and not server_exists(str(origin[0])):
        return plain
    qualified = _bounded(f"{_sanitize(tool.server)}__{_sanitize(tool.name)}", tool.server, tool.name)
    taken = await tools.get_by_name(qualified)
    taken_origin = _origin(taken) if taken is not None else None
    if taken is not None and not (taken_origin is not None and not server_exists(str(taken_origin[0]))):
        raise ConflictError(f"MCP tool {tool.name!r} of server {tool.server!r} cannot be named {plain!r} (taken) "
                            f"nor {qualified!r} (taken by tool {taken.id}); delete one of them first")
    return qualified
