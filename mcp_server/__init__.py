"""agenthost as an MCP server (being written)."""

from __future__ import annotations

from contextlib import asynccontextmanager
from typing import Any, AsyncIterator


def mount(app: Any, settings: Any) -> None:
    """Mount the streamable-HTTP MCP endpoint at /mcp on the REST app."""


@asynccontextmanager
async def lifespan(services: Any) -> AsyncIterator[None]:
    yield
