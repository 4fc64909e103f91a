"""MCP client for agenthost: Claude-Desktop-format config, a supervised session pool, tool results.

Public surface (import only these names):

    load_config(path, environ) -> McpConfig          parse mcp_config.json; never raises
    parse_config(document, environ) -> McpConfig
    write_config(path, entries, environ=None)         atomic write-back
    ConfigWatcher(path, on_change, environ, interval_s)
    redacted(config) -> dict                          secrets shown as "****"
    Redactor(values), redactor_for(config)            known secret values out of text ("****")
    env_secrets(mapping) -> set[str]                  which values of an environment count as secret
    scrub_urls(text), install_log_scrubbing()         URLs without userinfo and query values (log lines)
    unmask(new, old) -> McpServerConfig               masked values sent back ("****") keep the old ones
    McpPool(servers, settings=, on_status=)           async context manager
    PoolSettings                                      timeouts, ping interval, backoff
    test_server(config, timeout_s) -> (ok, tools | error)
    load_sdk()                                        import the MCP SDK now (blocking, thread-safe;
                                                      otherwise it loads with the first connection)
    HEAVY_IMPORTS                                     the (reentrant) lock the SDK is imported under; hold
                                                      it to import another heavy library in a thread
    assign_agent_names(pairs) -> {(server, tool): agent_name}
    OAuthStore, OAuthGrant, OAuthHandlers          OAuth for remote servers (mcp_client.oauth): where grants
                                                      live; the interactive authorization's two ends
    OAUTH_NEEDED                                      in `last_error` of a server that needs authorizing
    ToolListWatcher(pool).changes()                   async iterator of ToolListChange: which servers'
                                                      listed tools changed (ready, re-listed, gone)
"""

from mcp_client.carriers import McpTool, McpToolResult, ServerState, ServerStatus
from mcp_client.config import (
    McpConfig,
    McpConfigEntry,
    McpServerConfig,
    load_config,
    parse_config,
    redacted,
    unmask,
)
from mcp_client.config_file import ConfigWatcher, write_config
from mcp_client.errors import McpClientError, McpConfigError, PoolNotRunningError, UnknownServerError
from mcp_client.naming import assign_agent_names
from mcp_client.oauth import OAUTH_NEEDED, OAuthGrant, OAuthHandlers, OAuthStore
from mcp_client.pool import McpPool
from mcp_client.probe import test_server
from mcp_client.redaction import Redactor, env_secrets, install_log_scrubbing, redactor_for, scrub_urls
from mcp_client.server import HEAVY_IMPORTS, PoolSettings, load_sdk
from mcp_client.watcher import ToolListChange, ToolListWatcher

__all__ = [
    "HEAVY_IMPORTS",
    "OAUTH_NEEDED",
    "ConfigWatcher",
    "McpClientError",
    "McpConfig",
    "McpConfigEntry",
    "McpConfigError",
    "McpPool",
    "McpServerConfig",
    "McpTool",
    "McpToolResult",
    "OAuthGrant",
    "OAuthHandlers",
    "OAuthStore",
    "PoolNotRunningError",
    "PoolSettings",
    "Redactor",
    "ServerState",
    "ServerStatus",
    "ToolListChange",
    "ToolListWatcher",
    "UnknownServerError",
    "assign_agent_names",
    "env_secrets",
    "install_log_scrubbing",
    "load_sdk",
    "load_config",
    "parse_config",
    "redacted",
    "redactor_for",
    "scrub_urls",
    "test_server",
    "unmask",
    "write_config",
]
