"""`test_server`: connect once, list tools, disconnect - for `POST /v1/tools/mcp/servers/test`."""

from __future__ import annotations

import anyio

from mcp_client.carriers import McpTool
from mcp_client.config import McpServerConfig
from mcp_client.naming import assign_agent_names
from mcp_client.oauth import OAuthHandlers, challenge_watch, interactive_auth
from mcp_client.server import ManagedServer, PoolSettings


async def test_server(
    config: McpServerConfig, timeout_s: float = 30.0, oauth: OAuthHandlers | None = None, oauth_wait_s: float = 600.0
) -> tuple[bool, list[McpTool] | str]:
    """Return `(True, tools)` or `(False, reason)`; never raises for an unreachable or broken server.

    With `oauth`, a remote server that asks for OAuth is authorized interactively (``mcp_client.oauth``);
    the handshake then also waits up to `oauth_wait_s` for the person to authorize.
    """
    wait_s = oauth_wait_s if oauth is not None else 0.0
    settings = PoolSettings(connect_timeout_s=timeout_s, person_wait_s=wait_s, backoff_initial_s=3600.0,
                            shutdown_grace_s=1.0)
    statuses: list[str] = []
    handlers = oauth

    async def auth(cfg: McpServerConfig):  # noqa: ANN202
        assert cfg.url is not None  # called for remote servers only
        return await interactive_auth(cfg, handlers) if handlers is not None else challenge_watch(cfg.url)

    server = ManagedServer(config.name, config.model_copy(update={"disabled": False}), settings,
                           lambda s: statuses.append(s.state), auth=auth)
    tools: list[McpTool] = []
    async with anyio.create_task_group() as tg:
        tg.start_soon(server.run)
        with anyio.move_on_after(timeout_s + wait_s + 5.0):
            while server.state not in ("ready", "error"):
                await server.changed()
        if server.state == "ready":
            enabled = [t for t in server.tools or () if config.tool_enabled(t.name)]
            names = assign_agent_names((config.name, t.name) for t in enabled)
            tools = [
                McpTool(config.name, t.name, names[(config.name, t.name)], t.description or "", dict(t.input_schema),
                        t.annotations.model_dump(exclude_none=True) if t.annotations else {})
                for t in enabled
            ]  # fmt: skip
        state, error = server.state, server.last_error
        server.scope.cancel()
    if state == "ready":
        return True, tools
    return False, error or f"server {config.name!r} did not become ready within {timeout_s:g}s"


test_server.__test__ = False  # not a pytest test
