"""OAuth through the MCP SDK's client against a real OAuth-protected MCP server (tests/peers/oauth_server.py)."""

from __future__ import annotations

import json
from dataclasses import replace
from urllib.parse import parse_qs, urlsplit

import anyio
import httpx
import pytest

from mcp_client import OAUTH_NEEDED, McpPool, McpServerConfig, OAuthHandlers, test_server
from tests.mcp_client.mcp_peers import FAST
from tests.mcp_client.oauth_peer import MemoryStore, oauth_peer
from tests.support.waiting import wait_until_async

pytestmark = pytest.mark.anyio
REDIRECT_URI = "http://127.0.0.1:9/callback"  # never reached: the test reads the redirect's Location itself


def approving_handlers(store: MemoryStore, seen: list[str]) -> OAuthHandlers:
    """Follow the authorization URL like a browser whose user approves; hand the redirect's code back."""
    redirect: dict[str, list[str]] = {}

    async def on_url(url: str) -> None:
        seen.append(url)
        async with httpx.AsyncClient() as client:
            answer = await client.get(url)
        assert answer.status_code == 302, answer.text
        location = answer.headers["location"]
        assert location.startswith(REDIRECT_URI)
        redirect.update(parse_qs(urlsplit(location).query))

    async def callback() -> tuple[str, str | None, str | None]:
        return redirect["code"][0], redirect["state"][0], None

    return OAuthHandlers(REDIRECT_URI, on_url, callback, store)


@pytest.mark.parametrize("transport", ["http", "sse"])
async def test_interactive_authorization_then_the_pool_connects_with_the_stored_grant(transport: str) -> None:
    store, seen = MemoryStore(), []
    async with oauth_peer(transport) as url:
        config = McpServerConfig.model_validate({"name": "locked", "url": url})
        ok, tools = await test_server(config, timeout_s=30, oauth=approving_handlers(store, seen))
        assert ok is True, tools
        assert {"add", "whoami"} <= {t.name for t in tools}  # type: ignore[union-attr]
        assert len(seen) == 1 and "code_challenge_method=S256" in seen[0]  # PKCE
        grant = store.grants[url]
        assert grant.usable and grant.client_info and grant.metadata and grant.expires_at
        async with McpPool([config], settings=FAST, oauth_store=store) as pool:
            status = await pool.wait_ready("locked", 15)
            assert status.state == "ready", status.last_error
            assert (await pool.call_tool("locked", "add", {"a": 2, "b": 3})).text == "5"
            who = await pool.call_tool("locked", "whoami", {})
            assert who.text == grant.client_info["client_id"]


@pytest.mark.parametrize("transport", ["http", "sse"])
async def test_a_server_without_a_grant_is_in_error_saying_it_needs_authorizing(transport: str) -> None:
    async with oauth_peer(transport) as url:
        config = McpServerConfig.model_validate({"name": "locked", "url": url})
        async with McpPool([config], settings=FAST, oauth_store=MemoryStore()) as pool:
            await wait_until_async(lambda: pool.status("locked").state == "error")
            assert OAUTH_NEEDED in (pool.status("locked").last_error or "")
        ok, reason = await test_server(config, timeout_s=10)  # POST .../servers/test: no one to authorize
        assert ok is False and OAUTH_NEEDED in str(reason)


async def test_expired_access_tokens_are_refreshed_also_after_a_reconnect() -> None:
    store, seen = MemoryStore(), []
    async with oauth_peer(token_ttl=2) as url:
        config = McpServerConfig.model_validate({"name": "short", "url": url})
        ok, _ = await test_server(config, timeout_s=30, oauth=approving_handlers(store, seen))
        assert ok is True
        first = store.grants[url].tokens
        assert first is not None
        async with McpPool([config], settings=FAST, oauth_store=store) as pool:
            assert (await pool.wait_ready("short", 15)).state == "ready"

            async def refreshed() -> bool:
                answer = await pool.call_tool("short", "stats", {})
                return answer.status == "success" and json.loads(answer.text).get("by_refresh", 0) >= 2

            with anyio.fail_after(60):
                while not await refreshed():
                    await anyio.sleep(0.5)
            assert store.grants[url].tokens != first  # the rotated tokens were stored
        # A new pool (a restarted server) starts from the stored grant, its expiry restored: it refreshes
        # an expired token instead of asking for a new authorization.
        store.grants[url] = replace(store.grants[url], expires_at=0.0)
        async with McpPool([config], settings=FAST, oauth_store=store) as pool:
            status = await pool.wait_ready("short", 15)
            assert status.state == "ready", status.last_error
            assert len(seen) == 1
