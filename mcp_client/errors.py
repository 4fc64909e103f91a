"""Exceptions raised by `mcp_client`, for configuration and programming errors only.

Tool failures, unreachable servers and timeouts are never raised: they come back as
`McpToolResult(status="error")` or as a server's `state="error"` with `last_error`.

    McpClientError                 base class of everything raised here
    ├── McpConfigError             a config value cannot be used (bad path write, invalid model)
    ├── UnknownServerError         a method named a server the pool does not hold
    ├── PoolNotRunningError        the pool was used outside `async with McpPool(...)`
    └── OAuthAuthorizationNeeded   (mcp_client.oauth) a server asks for an OAuth authorization no one can give
                                   here; raised inside its requests, it becomes its state, never the caller's
"""

from __future__ import annotations


class McpClientError(Exception):
    """Base class for every exception `mcp_client` raises."""


class McpConfigError(McpClientError):
    """A configuration value cannot be used; the message names the value and the fix."""


class UnknownServerError(McpClientError, KeyError):
    """The pool holds no server with this name."""

    def __init__(self, name: str) -> None:
        self.name = name
        super().__init__(f"no MCP server named {name!r} is configured; add it with add_server() or mcp_config.json")

    def __str__(self) -> str:
        return str(self.args[0])


class PoolNotRunningError(McpClientError):
    """The pool was used before `__aenter__` or after `__aexit__`."""

    def __init__(self) -> None:
        super().__init__("McpPool is not running; use it inside `async with McpPool(...) as pool:`")
