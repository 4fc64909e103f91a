"""Typed carriers that leave `mcp_client`: tools, tool results and server status."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

ServerState = Literal["connecting", "ready", "error", "disabled"]
ToolStatus = Literal["success", "error"]


@dataclass(frozen=True, slots=True)
class McpTool:
    """One tool exposed by one MCP server, with the collision-free name agents see."""

    server: str
    name: str
    agent_name: str
    description: str
    input_schema: dict[str, Any]
    annotations: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class McpToolResult:
    """The outcome of a tools/call: tool failures, timeouts and outages are `status="error"`."""

    status: ToolStatus
    text: str
    structured: Any = None
    duration_ms: float = 0.0


@dataclass(frozen=True, slots=True)
class ServerStatus:
    """What the pool knows about one configured server right now."""

    name: str
    transport: str
    state: ServerState
    last_error: str | None = None
    tool_count: int = 0
    pid: int | None = None
    attempts: int = 0
    retry_in_s: float | None = None
    protocol_version: str | None = None
