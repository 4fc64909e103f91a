"""Errors of the MCP server package.

    McpServerError                 base of this package
    ├── ToolFailure                a tool call the client made cannot be served (unknown agent, bad
    │                              arguments, a server-side 4xx): becomes an ``isError`` tool result
    └── BridgeError                the agenthost server behind ``agenthost mcp --url`` is unreachable or
                                   answered 5xx / 401: also an ``isError`` result, naming the URL and the fix
"""

from __future__ import annotations


class McpServerError(Exception):
    """Base of every error raised by ``mcp_server``."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class ToolFailure(McpServerError):
    """A tool call that fails for a reason the model can act on."""


class BridgeError(McpServerError):
    """The REST server behind the stdio bridge failed."""


__all__ = ["BridgeError", "McpServerError", "ToolFailure"]
