"""`McpPool`: every configured MCP server, one supervised long-lived session each.

    async with McpPool(load_config(path, environ).entries, settings=PoolSettings()) as pool:
        await pool.wait_ready("files", timeout=10)
        tools = pool.list_tools()                          # McpTool with collision-free agent_name
        result = await pool.call_tool("files", "read_file", {"path": "/tmp/x"})

Servers run as tasks in the pool's task group; one failing server never affects the others.
Calls run in the caller's task, so cancelling the caller cancels the request on the server
(the SDK sends notifications/cancelled). Leaving the `async with` stops every server with a
bounded shutdown (stdio children: close stdin, grace period, SIGTERM, SIGKILL of the group).

Catalogue rule: `list_tools()` shows the tools of servers that are `ready`; agent names are
assigned (see `naming.py`) over the last known catalogue of every enabled server, so a server
that is briefly reconnecting does not rename the others' tools.
"""

from __future__ import annotations

import logging
import traceback
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, Self

import anyio
import anyio.abc

from mcp_client.carriers import McpTool, McpToolResult, ServerStatus
from mcp_client.config import McpConfig, McpConfigEntry, McpServerConfig
from mcp_client.config_file import ConfigWatcher
from mcp_client.errors import PoolNotRunningError, UnknownServerError
from mcp_client.naming import assign_agent_names
from mcp_client.server import ManagedServer, PoolSettings, describe_exception

if TYPE_CHECKING:
    import httpx2

    from mcp_client.oauth import OAuthStore

logger = logging.getLogger(__name__)

ServerSpec = McpServerConfig | McpConfigEntry
_TRANSPORT_ERRORS = (OSError, anyio.BrokenResourceError, anyio.ClosedResourceError, anyio.EndOfStream)


def _split(spec: ServerSpec) -> tuple[str, McpServerConfig | None, str | None]:
    if isinstance(spec, McpConfigEntry):
        return spec.name, spec.config, spec.error
    return spec.name, spec, None


class McpPool:
    def __init__(
        self,
        servers: Iterable[ServerSpec] = (),
        *,
        settings: PoolSettings | None = None,
        on_status: Callable[[ServerStatus], None] | None = None,
        oauth_store: OAuthStore | None = None,
    ) -> None:
        self.settings = settings or PoolSettings()
        self.oauth_store = oauth_store  # remote servers with a stored OAuth grant connect with it
        # Asked when a call names a server the pool does not run (before failing it): the host re-reads its
        # servers there, so a server another process just added is started at once, not at the next re-read.
        self.on_unknown_server: Callable[[str], Awaitable[None]] | None = None
        self._initial = list(servers)
        self._on_status = on_status
        self._servers: dict[str, ManagedServer] = {}
        self._tg: anyio.abc.TaskGroup | None = None
        self._names: dict[tuple[str, str], str] | None = None
        self._event = anyio.Event()

    # ---- lifecycle ----------------------------------------------------------------------
    async def __aenter__(self) -> Self:
        self._tg = anyio.create_task_group()
        await self._tg.__aenter__()
        for spec in self._initial:
            await self.add_server(spec)
        return self

    async def __aexit__(self, *exc_info: Any) -> bool | None:
        assert self._tg is not None
        tg, self._tg = self._tg, None
        tg.cancel_scope.cancel()
        try:
            # Server tasks never raise; exiting with no exception keeps the body's own
            # exception (if any) from being wrapped in an ExceptionGroup.
            await tg.__aexit__(None, None, None)
        finally:
            self._servers.clear()
        return None

    def oauth_store_for(self, config: McpServerConfig) -> OAuthStore | None:
        """The grant store `config`'s server connects with (``oauth_store`` for every server here; a subclass
        whose servers have several owners gives each its owner's store)."""
        return self.oauth_store

    async def _auth(self, config: McpServerConfig) -> httpx2.Auth | None:
        store = self.oauth_store_for(config)
        if store is None:
            return None
        from mcp_client.oauth import stored_auth

        return await stored_auth(config, store)

    def _group(self) -> anyio.abc.TaskGroup:
        if self._tg is None:
            raise PoolNotRunningError()
        return self._tg

    def _get(self, name: str) -> ManagedServer:
        try:
            return self._servers[name]
        except KeyError:
            raise UnknownServerError(name) from None

    def _changed(self, server: ManagedServer) -> None:
        self._names = None
        self._signal()
        if self._on_status is not None:
            try:
                self._on_status(server.status())
            except Exception:
                logger.exception("on_status callback failed for MCP server %r", server.name)

    def _signal(self) -> None:
        changed, self._event = self._event, anyio.Event()
        changed.set()

    def change_event(self) -> anyio.Event:
        """An event set by the next change of any server: its state, its tool list, or its removal."""
        return self._event

    # ---- membership ---------------------------------------------------------------------
    async def add_server(self, spec: ServerSpec) -> ServerStatus:
        """Start supervising a server (a config error becomes `state="error"`); replaces a same-named one."""
        tg = self._group()
        name, config, error = _split(spec)
        if name in self._servers:
            await self.remove_server(name)
        server = ManagedServer(name, config, self.settings, self._changed, config_error=error, auth=self._auth)
        self._servers[name] = server
        self._changed(server)
        if server.runs:
            tg.start_soon(server.run, name=f"mcp-server:{name}")
        else:
            server.done.set()
        return server.status()

    async def remove_server(self, name: str) -> None:
        """Stop a server and wait for its bounded shutdown."""
        server = self._servers.pop(name, None)
        if server is None:
            raise UnknownServerError(name)
        self._names = None
        server.scope.cancel()
        with anyio.CancelScope(shield=True):
            await server.done.wait()
        self._signal()

    async def update_server(self, spec: ServerSpec) -> ServerStatus:
        """Apply a changed entry: restart the server only if its config differs."""
        name, config, error = _split(spec)
        current = self._servers.get(name)
        if current is not None and current.config == config and current.config is not None and error is None:
            return current.status()
        return await self.add_server(spec)

    async def apply_config(self, entries: Iterable[ServerSpec] | McpConfig) -> list[ServerStatus]:
        """Diff against the running set: remove missing, add new, restart changed, keep the rest."""
        if isinstance(entries, McpConfig):
            entries = entries.entries
        wanted = {_split(spec)[0]: spec for spec in entries}
        for name in [n for n in self._servers if n not in wanted]:
            await self.remove_server(name)
        for spec in wanted.values():
            await self.update_server(spec)
        return self.states()

    async def watch_config(self, path: str | Path, environ: Mapping[str, str], interval_s: float = 1.0) -> None:
        """Load `path` now and re-apply it whenever it changes (polling every `interval_s`).

        A file that is unreadable or not valid JSON is logged and leaves the servers as they are.
        """

        async def on_change(config: McpConfig) -> None:
            if config.error is None:
                await self.apply_config(config)

        await self._group().start(ConfigWatcher(path, on_change, environ, interval_s).run)

    # ---- queries ------------------------------------------------------------------------
    def states(self) -> list[ServerStatus]:
        return [server.status() for server in self._servers.values()]

    def status(self, name: str) -> ServerStatus:
        return self._get(name).status()

    def _agent_names(self) -> dict[tuple[str, str], str]:
        if self._names is None:
            pairs = [
                (server.name, tool.name)
                for server in self._servers.values()
                if server.config is not None and not server.config.disabled
                for tool in server.tools or ()
                if server.config.tool_enabled(tool.name)
            ]
            self._names = assign_agent_names(pairs)
        return self._names

    def list_tools(self, server: str | None = None) -> list[McpTool]:
        """Tools of ready servers (or of `server` only), filtered by allow/deny lists."""
        names = self._agent_names()
        chosen = [self._get(server)] if server is not None else list(self._servers.values())
        tools: list[McpTool] = []
        for srv in chosen:
            if srv.state != "ready" or srv.config is None:
                continue
            for tool in srv.tools or ():
                if not srv.config.tool_enabled(tool.name):
                    continue
                annotations = tool.annotations.model_dump(exclude_none=True) if tool.annotations else {}
                tools.append(
                    McpTool(
                        server=srv.name,
                        name=tool.name,
                        agent_name=names[(srv.name, tool.name)],
                        description=tool.description or "",
                        input_schema=dict(tool.input_schema),
                        annotations=annotations,
                    )
                )
        return tools

    def find_tool(self, agent_name: str) -> McpTool | None:
        """The tool an agent-facing name refers to, among ready servers."""
        return next((tool for tool in self.list_tools() if tool.agent_name == agent_name), None)

    # ---- actions ------------------------------------------------------------------------
    async def wait_ready(self, server: str, timeout: float) -> ServerStatus:
        """Wait up to `timeout` s for `server` to be ready; returns its status either way."""
        srv = self._get(server)
        with anyio.move_on_after(timeout):
            while srv.state != "ready" and srv.runs and not srv.done.is_set():
                await srv.changed()
        return srv.status()

    async def resync(self, server: str) -> ServerStatus:
        """Ready: re-list its tools now. Otherwise: skip the backoff and reconnect now."""
        srv = self._get(server)
        if srv.state == "ready":
            srv.request_refresh()
        else:
            srv.wake()
        return srv.status()

    async def call_tool(
        self, server: str, tool: str, arguments: dict[str, Any] | None = None, timeout_s: float | None = None
    ) -> McpToolResult:
        """Call `tool` on `server`. Every failure comes back as `McpToolResult(status="error")`.

        Error text (the server's error message, an error result, a transport failure) comes back with
        the server's configured secrets redacted (see ``mcp_client.redaction``); a successful result is
        the tool's own answer and is returned as it is.
        """
        started = anyio.current_time()
        srv = self._servers.get(server)

        def fail(cause: str) -> McpToolResult:
            elapsed = (anyio.current_time() - started) * 1000
            text = f"MCP tool {tool!r} on server {server!r} failed: {cause}"
            return McpToolResult("error", srv.redact(text) if srv is not None else text, None, elapsed)

        if srv is None and self.on_unknown_server is not None:
            await self.on_unknown_server(server)
            srv = self._servers.get(server)
        if srv is None:
            return fail("no such server is configured")
        config = srv.config
        if config is not None and not config.tool_enabled(tool):
            return fail("the tool is disabled by the server's allowedTools/disabledTools")
        timeout = timeout_s if timeout_s is not None else (config.timeout_s if config else 60.0)
        if srv.state == "connecting" or srv.restarting:  # wait out a restart within the call's timeout
            with anyio.move_on_after(timeout):
                while srv.state == "connecting" or (srv.restarting and srv.state == "error"):
                    await srv.changed()
        session = srv.session
        if srv.state != "ready" or session is None:
            why = f"; last error: {srv.last_error}" if srv.last_error else ""
            return fail(f"server is not ready (state {srv.state}{why})")
        # A session exists, so the server's task has loaded the SDK already.
        from mcp.shared.exceptions import MCPError
        from mcp_types import CONNECTION_CLOSED, REQUEST_TIMEOUT

        from mcp_client.results import convert_result

        remaining = max(0.001, timeout - (anyio.current_time() - started))
        try:
            with anyio.fail_after(remaining + 1.0):  # backstop; the SDK's own timeout fires first
                result = await session.call_tool(tool, arguments or {}, read_timeout_seconds=remaining)
        except MCPError as error:
            if error.code == REQUEST_TIMEOUT:
                srv.suspect()
                return fail(f"timed out after {timeout:g}s (the request was cancelled on the server)")
            if error.code == CONNECTION_CLOSED:
                srv.report_fault(f"connection lost during tools/call {tool!r}")
                return fail("the connection to the server was lost during the call; it is being restarted")
            return fail(f"the server answered with error {error.code}: {error.error.message}")
        except TimeoutError:
            srv.suspect()
            return fail(f"timed out after {timeout:g}s")
        except _TRANSPORT_ERRORS as error:
            srv.report_fault(f"transport failure during tools/call {tool!r}: {describe_exception(error)}")
            return fail(f"transport failure ({describe_exception(error)}); the connection is being re-established")
        except Exception as error:  # noqa: BLE001 - a malformed result is data for the model, not a crash
            cause = describe_exception(error)
            logger.warning("MCP call %s/%s failed: %s", server, tool, srv.redact(traceback.format_exc()))
            return fail(cause)
        converted = convert_result(result, (anyio.current_time() - started) * 1000)
        if converted.status == "error":
            return replace(converted, text=srv.redact(converted.text))
        return converted
