"""Helpers for mcp_client tests: real peer servers (stdio subprocess, SSE / HTTP on 127.0.0.1)."""

from __future__ import annotations

import socket
import subprocess
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import anyio
import anyio.abc
from anyio.streams.text import TextReceiveStream

from mcp_client import McpServerConfig, PoolSettings

PEERS = Path(__file__).resolve().parents[1] / "peers"
PEER_SERVER = PEERS / "peer_server.py"
EVERYTHING_JS = PEERS / "node_modules" / "@modelcontextprotocol" / "server-everything" / "dist" / "index.js"

FAST = PoolSettings(
    connect_timeout_s=15.0,
    ping_interval_s=0.3,
    ping_timeout_s=2.0,
    backoff_initial_s=0.05,
    backoff_max_s=0.4,
    shutdown_grace_s=1.0,
)


def stdio_peer(name: str = "peer", *extra: str, **fields: Any) -> McpServerConfig:
    """A stdio entry that runs tests/peers/peer_server.py with this interpreter."""
    return McpServerConfig(
        name=name, transport="stdio", command=sys.executable, args=[str(PEER_SERVER), *extra], **fields
    )


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@asynccontextmanager
async def remote_peer(transport: str, port: int | None = None) -> AsyncIterator[tuple[str, anyio.abc.Process]]:
    """Run peer_server.py over `sse` or `http` on 127.0.0.1; yield (url, process) once listening."""
    port = port or free_port()
    args = [sys.executable, str(PEER_SERVER), "--transport", transport, "--port", str(port)]
    process = await anyio.open_process(args, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    try:
        assert process.stdout is not None
        with anyio.fail_after(20):
            buffer = ""
            async for chunk in TextReceiveStream(process.stdout):
                buffer += chunk
                if "READY" in buffer:
                    break
        path = "/sse" if transport == "sse" else "/mcp"
        yield f"http://127.0.0.1:{port}{path}", process
    finally:
        with anyio.CancelScope(shield=True):
            if process.returncode is None:
                process.terminate()
                with anyio.move_on_after(5):
                    await process.wait()
                if process.returncode is None:
                    process.kill()
            await process.aclose()


