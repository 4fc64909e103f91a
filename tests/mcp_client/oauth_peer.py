"""Helpers for the OAuth tests: the OAuth-protected peer (tests/peers/oauth_server.py) and an in-memory grant store."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import anyio
import anyio.abc
from anyio.streams.text import TextReceiveStream

from mcp_client import OAuthGrant
from tests.mcp_client.mcp_peers import PEERS, free_port

OAUTH_SERVER = PEERS / "oauth_server.py"


@asynccontextmanager
async def oauth_peer(transport: str = "http", token_ttl: int = 3600) -> AsyncIterator[str]:
    """Run the OAuth-protected peer on 127.0.0.1; yield its MCP URL once it listens."""
    port = free_port()
    args = [sys.executable, str(OAUTH_SERVER), "--transport", transport, "--port", str(port),
            "--token-ttl", str(token_ttl)]
    process = await anyio.open_process(args, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    try:
        assert process.stdout is not None
        with anyio.fail_after(20):
            async for chunk in TextReceiveStream(process.stdout):
                if "READY" in chunk:
                    break
        yield f"http://127.0.0.1:{port}{'/sse' if transport == 'sse' else '/mcp'}"
    finally:
        with anyio.CancelScope(shield=True):
            if process.returncode is None:
                process.terminate()
                with anyio.move_on_after(5):
                    await process.wait()
                if process.returncode is None:
                    process.kill()
            await process.aclose()


class MemoryStore:
    """An ``OAuthStore`` in a dict (the host's lives in its database, encrypted)."""

    def __init__(self) -> None:
        self.grants: dict[str, OAuthGrant] = {}
        self.saves = 0

    async def load(self, server_url: str) -> OAuthGrant | None:
        return self.grants.get(server_url)

    async def save(self, server_url: str, grant: OAuthGrant) -> None:
        self.grants[server_url] = grant
        self.saves += 1
