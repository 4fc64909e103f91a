"""Open one transport to one server: stdio child, SSE or streamable HTTP.

The stdio transport is ours (not `mcp.client.stdio`) because the pool needs the child's pid,
the tail of its stderr for `last_error`, and an event that fires when the child goes away.
The child runs in its own session (process group); shutdown closes stdin, waits `grace_s`,
then SIGTERM and SIGKILL to the whole group, every wait bounded and shielded.

The child's environment is the parent's filtered to `INHERITED_ENV` plus the entry's `env`,
as Claude Desktop does; this is the only place `mcp_client` reads `os.environ`.
"""

from __future__ import annotations

import collections
import logging
import os
import signal
import subprocess
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager, suppress
from dataclasses import dataclass, field

import anyio
import anyio.abc
import httpx2
import mcp_types as types
from anyio.streams.memory import MemoryObjectReceiveStream, MemoryObjectSendStream
from anyio.streams.text import TextReceiveStream
from mcp.client.sse import sse_client
from mcp.client.streamable_http import streamable_http_client
from mcp.shared.message import SessionMessage

from mcp_client.config import McpServerConfig
from mcp_client.redaction import redactor_for

logger = logging.getLogger(__name__)

INHERITED_ENV = (
    "PATH", "HOME", "USER", "LOGNAME", "SHELL", "TERM", "LANG", "LC_ALL", "LC_CTYPE", "TZ", "TMPDIR",
    "SYSTEMROOT", "APPDATA", "LOCALAPPDATA", "USERPROFILE", "NODE_EXTRA_CA_CERTS", "SSL_CERT_FILE",
)  # fmt: skip
STDERR_TAIL_LINES = 20
STDERR_MAX_LINE = 64 * 1024


def child_environment(extra: dict[str, str]) -> dict[str, str]:
    """The parent environment filtered to `INHERITED_ENV`, overlaid with the entry's `env`."""
    base = {key: value for key in INHERITED_ENV if (value := os.environ.get(key)) is not None}
    base = {key: value for key, value in base.items() if not value.startswith("()")}
    return base | extra


@dataclass
class Connection:
    """An open transport: the streams a `ClientSession` needs plus what the pool watches."""

    read: MemoryObjectReceiveStream[SessionMessage | Exception]
    write: MemoryObjectSendStream[SessionMessage]
    closed: anyio.Event = field(default_factory=anyio.Event)
    pid: int | None = None
    returncode: Callable[[], int | None] = lambda: None
    stderr_tail: collections.deque[str] = field(default_factory=lambda: collections.deque(maxlen=STDERR_TAIL_LINES))

    def describe_exit(self) -> str:
        returncode = self.returncode()
        tail = " | ".join(line for line in self.stderr_tail if line.strip())[-500:]
        code = f"exited with code {returncode}" if returncode is not None else "closed its stdout"
        return f"process {self.pid} {code}" + (f"; stderr: {tail}" if tail else "")


async def _stop_process(process: anyio.abc.Process, grace_s: float) -> None:
    if process.stdin is not None:
        with suppress(Exception):
            await process.stdin.aclose()
    for sig, wait_s in ((None, grace_s), (signal.SIGTERM, 2.0), (signal.SIGKILL, 2.0)):
        if sig is not None:
            with suppress(ProcessLookupError, PermissionError):
                os.killpg(process.pid, sig)
        with anyio.move_on_after(wait_s):
            while process.returncode is None:
                await anyio.sleep(0.01)
        if process.returncode is not None:
            break
    else:
        logger.warning("MCP server process %d survived SIGKILL; abandoning it", process.pid)
    with suppress(ProcessLookupError, PermissionError):  # descendants that outlived the leader
        os.killpg(process.pid, signal.SIGKILL)


@asynccontextmanager
async def open_stdio(config: McpServerConfig, grace_s: float = 2.0) -> AsyncIterator[Connection]:
    assert config.command is not None
    process = await anyio.open_process(
        [config.command, *config.args],
        env=child_environment(config.env),
        cwd=config.cwd,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        start_new_session=True,
    )
    read_writer, read = anyio.create_memory_object_stream[SessionMessage | Exception](0)
    write, write_reader = anyio.create_memory_object_stream[SessionMessage](0)
    conn = Connection(read=read, write=write, pid=process.pid, returncode=lambda: process.returncode)
    redact = redactor_for(config)  # stderr echoes arguments and values: it is kept and logged redacted

    async def pump_stdout() -> None:
        assert process.stdout is not None
        buffer = ""
        try:
            async with read_writer:
                async for chunk in TextReceiveStream(process.stdout, errors="replace"):
                    *lines, buffer = (buffer + chunk).split("\n")
                    for line in lines:
                        if not line.strip():
                            continue
                        try:
                            item: SessionMessage | Exception = SessionMessage(
                                types.jsonrpc_message_adapter.validate_json(line, by_name=False)
                            )
                        except ValueError as error:
                            logger.warning("server %s wrote a non-JSON-RPC line to stdout", config.name)
                            item = error
                        await read_writer.send(item)
        except (anyio.ClosedResourceError, anyio.BrokenResourceError, OSError):
            pass
        finally:
            conn.closed.set()

    async def pump_stdin() -> None:
        assert process.stdin is not None
        try:
            async with write_reader:
                async for message in write_reader:
                    data = message.message.model_dump_json(by_alias=True, exclude_unset=True) + "\n"
                    await process.stdin.send(data.encode())
        except (anyio.ClosedResourceError, anyio.BrokenResourceError, OSError):
            conn.closed.set()

    async def pump_stderr() -> None:
        assert process.stderr is not None

        def emit(line: str) -> None:
            line = redact(line.rstrip("\r"))
            conn.stderr_tail.append(line)
            logger.debug("[%s stderr] %s", config.name, line)

        buffer = ""  # whole lines only: a value split across two reads must still be found
        with suppress(anyio.ClosedResourceError, anyio.BrokenResourceError, OSError):
            async for chunk in TextReceiveStream(process.stderr, errors="replace"):
                *lines, buffer = (buffer + chunk).split("\n")
                for line in lines:
                    emit(line)
                if len(buffer) > STDERR_MAX_LINE:
                    emit(buffer + " [line cut]")
                    buffer = ""
        if buffer:
            emit(buffer)

    try:
        async with anyio.create_task_group() as tg:
            tg.start_soon(pump_stdout)
            tg.start_soon(pump_stdin)
            tg.start_soon(pump_stderr)
            try:
                yield conn
            finally:
                with anyio.CancelScope(shield=True):
                    write.close()
                    read.close()
                    await _stop_process(process, grace_s)
                tg.cancel_scope.cancel()
    finally:
        with anyio.CancelScope(shield=True):
            with suppress(Exception):
                await process.aclose()


@asynccontextmanager
async def open_remote(
    config: McpServerConfig, connect_timeout_s: float, auth: httpx2.Auth | None = None
) -> AsyncIterator[Connection]:
    """SSE or streamable HTTP; `auth` (``mcp_client.oauth``) signs every request with an OAuth token."""
    assert config.url is not None
    headers = dict(config.headers)
    if config.transport == "sse":
        cm = sse_client(config.url, headers=headers, timeout=connect_timeout_s, sse_read_timeout=3600.0, auth=auth)
        async with cm as (read, write):
            yield Connection(read=read, write=write)  # type: ignore[arg-type]
        return
    timeout = httpx2.Timeout(connect_timeout_s, read=3600.0)
    async with httpx2.AsyncClient(headers=headers, timeout=timeout, auth=auth) as client:
        async with streamable_http_client(config.url, http_client=client) as (read, write):
            yield Connection(read=read, write=write)  # type: ignore[arg-type]


def open_transport(  # noqa: ANN201
    config: McpServerConfig, connect_timeout_s: float, grace_s: float = 2.0, auth: httpx2.Auth | None = None
):
    """An async context manager yielding a `Connection` for `config`'s transport."""
    if config.transport == "stdio":
        return open_stdio(config, grace_s)
    return open_remote(config, connect_timeout_s, auth)
