"""One supervised server: a long-lived `ClientSession`, reconnected with exponential backoff.

Life of a `ManagedServer.run()` task (one per configured server, in the pool's task group):

    connecting -> open transport, negotiate (server/discover, falling back to initialize),
                  list tools (following cursors) -> ready
    ready      -> serve calls; ping every `ping_interval_s`; refresh the catalogue on
                  notifications/tools/list_changed (handshake era) or a subscriptions/listen
                  event (2026-07-28); leave on child exit, failed ping or transport failure
    error      -> wait `backoff` (doubling up to `backoff_max_s`, reset after a ready spell;
                  `resync()` skips the wait), then connecting again
    disabled   -> `disabled: true` in the config: never connects

The MCP SDK (about 0.4 s of imports) is loaded only when a server first connects, in a worker thread
(`load_sdk`), so that importing `mcp_client` stays cheap and the event loop never waits for it.
"""

from __future__ import annotations

import logging
import sys
import threading
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

import anyio
from anyio.abc import TaskStatus

from mcp_client.carriers import ServerState, ServerStatus
from mcp_client.config import McpServerConfig
from mcp_client.redaction import redactor_for

if TYPE_CHECKING:
    import httpx2 as httpx2_types
    import mcp_types as types
    from mcp import ClientSession

    from mcp_client.transports import Connection

logger = logging.getLogger(__name__)

AuthFactory = Callable[[McpServerConfig], Awaitable["httpx2_types.Auth | None"]]
"""Which auth a remote server's requests carry this attempt (``mcp_client.oauth``); None: none."""

CLIENT_NAME, CLIENT_VERSION = "agenthost", "0.1.0"
MAX_TOOL_PAGES = 1000


# The SDK's packages import each other circularly, and share dependencies (pydantic, anyio, h11, ...) with
# other heavy libraries: two threads importing at once can each get the other's half-initialised modules
# ("partially initialized module 'httpx2' has no attribute 'Timeout'"). Every import of the SDK off the main
# thread holds this lock; a host that imports another heavy library in a thread (litellm) holds it too, so
# the two never import side by side. Reentrant: a holder may call ``load_sdk``.
HEAVY_IMPORTS = threading.RLock()

# httpx2 (with httpcore2) is the one module both the SDK and litellm import, and litellm imports it again on
# a provider's first call (its Azure path, for one) on the event loop's thread, where no lock can be held.
# Imported here, by whichever thread first imports this package (the main thread, at start-up), before any
# worker thread runs: every later import of it, from any thread, finds it whole (about 30 ms).
import httpx2  # noqa: E402, F401  isort: skip


def load_sdk() -> None:
    """Import the MCP SDK (all of ``mcp``, with its client and server halves) and this package's transports.

    Blocking (about 0.4 s the first time): call it in a worker thread. Thread-safe.
    """
    with HEAVY_IMPORTS:
        import mcp  # noqa: F401
        import mcp.client._probe  # noqa: F401
        import mcp.client.auth  # noqa: F401  (mcp_client.oauth)
        import mcp.client.subscriptions  # noqa: F401

        import mcp_client.transports  # noqa: F401  (mcp.client.sse, mcp.client.streamable_http, mcp_types)


@dataclass(frozen=True, slots=True)
class PoolSettings:
    """Supervision knobs shared by every server of a pool."""

    connect_timeout_s: float = 30.0
    person_wait_s: float = 0.0  # added to the handshake's deadline: a person authorizing (OAuth) takes time
    ping_interval_s: float = 30.0
    ping_timeout_s: float = 10.0
    backoff_initial_s: float = 0.5
    backoff_max_s: float = 60.0
    shutdown_grace_s: float = 2.0


class _Fault(Exception):
    """The live connection is unusable; `run()` reconnects."""


def describe_exception(error: BaseException) -> str:
    if isinstance(error, BaseExceptionGroup):
        inner = [describe_exception(e) for e in error.exceptions]
        return "; ".join(inner)
    if isinstance(error, FileNotFoundError):
        return f"command not found: {error.filename or error}"
    if isinstance(error, TimeoutError):
        return "timed out"
    text = str(error) or type(error).__name__
    return text if isinstance(error, _Fault) or _is_mcp_error(error) else f"{type(error).__name__}: {text}"


def _is_mcp_error(error: BaseException) -> bool:
    # Without the SDK loaded, nothing can have raised one of its errors.
    sdk = sys.modules.get("mcp.shared.exceptions")
    return sdk is not None and isinstance(error, sdk.MCPError)


class ManagedServer:
    def __init__(
        self,
        name: str,
        config: McpServerConfig | None,
        settings: PoolSettings,
        on_change: Callable[[ManagedServer], None],
        config_error: str | None = None,
        auth: AuthFactory | None = None,
    ) -> None:
        self.name = name
        self._auth = auth
        self.config = config
        self.settings = settings
        self._on_change = on_change
        self.redact = redactor_for(config)  # every text this server produces passes through it
        self.state: ServerState = "error" if config is None else ("disabled" if config.disabled else "connecting")
        self.last_error = self.redact.optional(config_error)
        self.tools: list[types.Tool] | None = None
        self.session: ClientSession | None = None
        self.pid: int | None = None
        self.protocol_version: str | None = None
        self.attempts = 0
        self.retry_in_s: float | None = None
        self.restarting = False  # failed after a ready spell; the first retry is underway
        self.scope = anyio.CancelScope()
        self.done = anyio.Event()
        self._changed = anyio.Event()
        self._wake = anyio.Event()
        self._fault = anyio.Event()
        self._fault_reason = ""
        self._refresh = anyio.Event()
        self._ping_now = anyio.Event()

    # ---- status -------------------------------------------------------------------------
    @property
    def transport(self) -> str:
        return self.config.transport if self.config is not None else "unknown"

    @property
    def runs(self) -> bool:
        return self.config is not None and not self.config.disabled

    def status(self) -> ServerStatus:
        return ServerStatus(
            name=self.name,
            transport=self.transport,
            state=self.state,
            last_error=self.last_error,
            tool_count=len(self.tools or ()),
            pid=self.pid if self.state in ("connecting", "ready") else None,
            attempts=self.attempts,
            retry_in_s=self.retry_in_s,
            protocol_version=self.protocol_version,
        )

    def _set(self, state: ServerState, error: str | None = None) -> None:
        self.state = state
        if error is not None:
            self.last_error = self.redact(error)
        changed, self._changed = self._changed, anyio.Event()
        changed.set()
        self._on_change(self)

    async def changed(self) -> None:
        """Wait for the next state or catalogue change."""
        await self._changed.wait()

    def wake(self) -> None:
        """Skip the current backoff wait (`resync`)."""
        self._wake.set()

    def request_refresh(self) -> None:
        self._refresh.set()

    def report_fault(self, reason: str) -> None:
        """Mark the live connection broken (called by the call path on a transport failure)."""
        if not self._fault.is_set():
            self._fault_reason = reason
            self._fault.set()

    def suspect(self) -> None:
        """Something looked wrong: ping now instead of at the next interval."""
        self._ping_now.set()

    # ---- supervision --------------------------------------------------------------------
    async def run(self) -> None:
        try:
            with self.scope:
                if not self.runs:
                    return
                failures = 0
                await anyio.to_thread.run_sync(load_sdk)
                while True:
                    self.retry_in_s = None
                    self._set("connecting")
                    self.attempts += 1
                    was_ready = False
                    try:
                        was_ready = await self._connect_once()
                    except Exception as error:  # noqa: BLE001 - every failure is reported as state
                        reason = describe_exception(error)
                    else:
                        reason = self._fault_reason or "connection closed"
                    reason = self.redact(reason)
                    self.session, self.pid, self.protocol_version = None, None, None
                    failures = 1 if was_ready else failures + 1
                    self.restarting = was_ready
                    delay = min(self.settings.backoff_max_s, self.settings.backoff_initial_s * 2 ** (failures - 1))
                    self.retry_in_s = delay
                    logger.warning("MCP server %r: %s; retrying in %.2fs", self.name, reason, delay)
                    self._set("error", reason)
                    self._wake = anyio.Event()
                    with anyio.move_on_after(delay):
                        await self._wake.wait()
        finally:
            self.session = None
            self.done.set()

    async def _connect_once(self) -> bool:
        """Connect, serve until the connection breaks; return whether it ever became ready."""
        import mcp_types as types
        from mcp import ClientSession
        from mcp.client._probe import negotiate_auto  # the SDK's mode="auto" policy (discover, else initialize)
        from mcp_types.version import MODERN_PROTOCOL_VERSIONS

        from mcp_client.transports import open_transport

        assert self.config is not None
        self._fault, self._fault_reason = anyio.Event(), ""
        self._refresh, self._ping_now = anyio.Event(), anyio.Event()
        ready = False
        conn: Connection | None = None
        auth = await self._auth(self.config) if self._auth is not None and self.config.transport != "stdio" else None
        try:
            settings = self.settings
            async with open_transport(self.config, settings.connect_timeout_s, settings.shutdown_grace_s, auth) as conn:
                self.pid = conn.pid
                client_info = types.Implementation(name=CLIENT_NAME, version=CLIENT_VERSION)
                session = ClientSession(conn.read, conn.write, message_handler=self._on_message, client_info=client_info)
                async with session:
                    with anyio.fail_after(self.settings.connect_timeout_s + self.settings.person_wait_s):
                        await negotiate_auto(session)
                        self.tools = await self._list_all(session)
                    self.protocol_version = session.protocol_version
                    async with anyio.create_task_group() as tg:
                        caps = session.server_capabilities
                        if session.protocol_version in MODERN_PROTOCOL_VERSIONS and caps and caps.tools:
                            with anyio.fail_after(self.settings.connect_timeout_s):
                                await tg.start(self._listen_loop, session)
                        self.session = session
                        ready = True
                        self.restarting = False
                        self.retry_in_s = None
                        self._set("ready", None)
                        logger.info(
                            "MCP server %r ready (%s, protocol %s, %d tools)",
                            self.name, self.transport, session.protocol_version, len(self.tools),
                        )  # fmt: skip
                        tg.start_soon(self._watch_closed, conn)
                        tg.start_soon(self._ping_loop, session)
                        tg.start_soon(self._refresh_loop, session)
                        await self._fault.wait()
                        self.session = None
                        tg.cancel_scope.cancel()
        except Exception as error:
            if conn is not None and conn.pid is not None:
                with anyio.move_on_after(0.5):
                    await conn.closed.wait()
                raise _Fault(f"{describe_exception(error)} ({conn.describe_exit()})") from error
            raise
        return ready

    async def _list_all(self, session: ClientSession) -> list[types.Tool]:
        import mcp_types as types

        tools: list[types.Tool] = []
        cursor: str | None = None
        for _ in range(MAX_TOOL_PAGES):
            params = types.PaginatedRequestParams(cursor=cursor) if cursor else None
            page = await session.list_tools(params=params)
            tools.extend(page.tools)
            cursor = page.next_cursor
            if not cursor:
                return tools
        raise _Fault(f"tools/list did not finish after {MAX_TOOL_PAGES} pages")

    async def _watch_closed(self, conn: Connection) -> None:
        await conn.closed.wait()
        with anyio.move_on_after(0.5):  # let the exit code and last stderr lines arrive
            while conn.returncode() is None:
                await anyio.sleep(0.01)
        self.report_fault(f"the server process went away ({conn.describe_exit()})")

    async def _ping_loop(self, session: ClientSession) -> None:
        from mcp.shared.exceptions import MCPError
        from mcp_types import CONNECTION_CLOSED, REQUEST_TIMEOUT

        while True:
            with anyio.move_on_after(self.settings.ping_interval_s):
                await self._ping_now.wait()
            self._ping_now = anyio.Event()
            try:
                with anyio.fail_after(self.settings.ping_timeout_s):
                    await session.send_ping()
            except MCPError as error:
                if error.code not in (CONNECTION_CLOSED, REQUEST_TIMEOUT):
                    continue  # any JSON-RPC answer proves the server is alive (2026-07-28 has no ping)
                self.report_fault(f"health check (ping) failed: {describe_exception(error)}")
                return
            except Exception as error:  # noqa: BLE001 - any failure means the session is unusable
                self.report_fault(f"health check (ping) failed: {describe_exception(error)}")
                return

    async def _refresh_loop(self, session: ClientSession) -> None:
        while True:
            await self._refresh.wait()
            self._refresh = anyio.Event()
            try:
                with anyio.fail_after(self.settings.connect_timeout_s):
                    self.tools = await self._list_all(session)
            except Exception as error:  # noqa: BLE001
                self.report_fault(f"tools/list refresh failed: {describe_exception(error)}")
                return
            logger.info("MCP server %r tool list changed (%d tools)", self.name, len(self.tools))
            self._set(self.state)

    async def _listen_loop(self, session: ClientSession, *, task_status: TaskStatus[None]) -> None:
        """2026-07-28: keep a subscriptions/listen stream open for tools/list_changed."""
        from mcp.client.subscriptions import ListenNotSupportedError, SubscriptionLost, listen
        from mcp.shared.exceptions import MCPError

        started = False
        while True:
            try:
                async with listen(session, tools_list_changed=True) as subscription:
                    if not started:
                        started = True
                        task_status.started()
                    async for _event in subscription:
                        self.request_refresh()
                return
            except (ListenNotSupportedError, MCPError) as error:
                logger.info("MCP server %r: no tools/list_changed subscription (%s)", self.name,
                            self.redact(str(error)))
                if not started:
                    task_status.started()
                return
            except SubscriptionLost:
                if not started:
                    started = True
                    task_status.started()
                self.suspect()
                await anyio.sleep(1.0)
                self.request_refresh()

    async def _on_message(self, message: object) -> None:
        import mcp_types as types

        if isinstance(message, types.ToolListChangedNotification):
            self.request_refresh()
        elif isinstance(message, Exception):
            logger.debug("MCP server %r transport reported %s", self.name, self.redact(repr(message)))
            self.suspect()
