"""An MCP server behind OAuth, written with the MCP SDK's server-side auth (``mcp.server.auth``).

Run: `python tests/peers/oauth_server.py --transport http|sse --port N [--token-ttl S]`. Binds 127.0.0.1
only and prints `READY <port>` on stdout once listening.

The same app is the authorization server (metadata, dynamic client registration, /authorize, /token) and the
protected MCP server (protected resource metadata; every MCP request needs a bearer token). /authorize
approves at once: it redirects straight back to the client's redirect URI with a code (no login page), so a
test follows the authorization URL with an HTTP client. Access tokens live `--token-ttl` seconds; refresh
tokens rotate.

Tools: `add(a, b)`, `whoami()` (the client id the token was issued to), `stats()` (how many tokens were issued
by code and by refresh, and how many requests were refused for a missing or stale token).
"""

from __future__ import annotations

import argparse
import json
import secrets
import socket
import sys
import time

import uvicorn
from mcp.server.auth.middleware.auth_context import get_access_token
from mcp.server.auth.provider import (
    AccessToken,
    AuthorizationCode,
    AuthorizationParams,
    RefreshToken,
    construct_redirect_uri,
)
from mcp.server.auth.settings import AuthSettings, ClientRegistrationOptions, RevocationOptions
from mcp.server.mcpserver import MCPServer
from mcp.shared.auth import OAuthClientInformationFull, OAuthToken

STATS = {"by_code": 0, "by_refresh": 0, "refused": 0}


class AutoApproveProvider:
    """An in-memory authorization server that approves every authorization request."""

    def __init__(self, token_ttl: int) -> None:
        self.ttl = token_ttl
        self.clients: dict[str, OAuthClientInformationFull] = {}
        self.codes: dict[str, AuthorizationCode] = {}
        self.access: dict[str, AccessToken] = {}
        self.refresh: dict[str, RefreshToken] = {}

    async def get_client(self, client_id: str) -> OAuthClientInformationFull | None:
        return self.clients.get(client_id)

    async def register_client(self, client_info: OAuthClientInformationFull) -> None:
        assert client_info.client_id is not None
        self.clients[client_info.client_id] = client_info

    async def authorize(self, client: OAuthClientInformationFull, params: AuthorizationParams) -> str:
        code = secrets.token_urlsafe(32)
        assert client.client_id is not None
        self.codes[code] = AuthorizationCode(
            code=code, scopes=params.scopes or ["mcp"], expires_at=time.time() + 300, client_id=client.client_id,
            code_challenge=params.code_challenge, redirect_uri=params.redirect_uri,
            redirect_uri_provided_explicitly=params.redirect_uri_provided_explicitly, resource=params.resource,
        )  # fmt: skip
        return construct_redirect_uri(str(params.redirect_uri), code=code, state=params.state)

    async def load_authorization_code(self, client: OAuthClientInformationFull, code: str) -> AuthorizationCode | None:
        found = self.codes.get(code)
        return found if found is not None and found.client_id == client.client_id else None

    def _issue(self, client_id: str, scopes: list[str], resource: str | None) -> OAuthToken:
        access, refresh = f"at-{secrets.token_urlsafe(24)}", f"rt-{secrets.token_urlsafe(24)}"
        expires = int(time.time()) + self.ttl + 2  # leeway, as real servers allow for clock skew and latency
        self.access[access] = AccessToken(token=access, client_id=client_id, scopes=scopes, expires_at=expires,
                                          resource=resource)
        self.refresh[refresh] = RefreshToken(token=refresh, client_id=client_id, scopes=scopes, resource=resource)
        return OAuthToken(access_token=access, expires_in=self.ttl, refresh_token=refresh, scope=" ".join(scopes))

    async def exchange_authorization_code(self, client: OAuthClientInformationFull,
                                          authorization_code: AuthorizationCode) -> OAuthToken:
        self.codes.pop(authorization_code.code, None)  # single use
        STATS["by_code"] += 1
        return self._issue(authorization_code.client_id, authorization_code.scopes, authorization_code.resource)

    async def load_refresh_token(self, client: OAuthClientInformationFull, refresh_token: str) -> RefreshToken | None:
        found = self.refresh.get(refresh_token)
        return found if found is not None and found.client_id == client.client_id else None

    async def exchange_refresh_token(self, client: OAuthClientInformationFull, refresh_token: RefreshToken,
                                     scopes: list[str]) -> OAuthToken:
        self.refresh.pop(refresh_token.token, None)  # rotated
        STATS["by_refresh"] += 1
        return self._issue(refresh_token.client_id, scopes or refresh_token.scopes, refresh_token.resource)

    async def load_access_token(self, token: str) -> AccessToken | None:
        found = self.access.get(token)
        if found is None or (found.expires_at is not None and found.expires_at < time.time()):
            STATS["refused"] += 1
            return None
        return found

    async def revoke_token(self, token: AccessToken | RefreshToken) -> None:
        self.access.pop(token.token, None)
        self.refresh.pop(token.token, None)


def build(port: int, transport: str, token_ttl: int) -> object:
    base = f"http://127.0.0.1:{port}"
    path = "/sse" if transport == "sse" else "/mcp"
    auth = AuthSettings(
        issuer_url=base,  # type: ignore[arg-type]
        resource_server_url=f"{base}{path}",  # type: ignore[arg-type]
        client_registration_options=ClientRegistrationOptions(enabled=True, valid_scopes=["mcp"],
                                                              default_scopes=["mcp"]),
        revocation_options=RevocationOptions(enabled=True),
        required_scopes=["mcp"],
        validate_token_resource=False,
    )
    server = MCPServer("oauth-peer", auth_server_provider=AutoApproveProvider(token_ttl), auth=auth)

    @server.tool()
    def add(a: float, b: float) -> str:
        """Add two numbers."""
        total = a + b
        return str(int(total) if total == int(total) else total)

    @server.tool()
    def whoami() -> str:
        """The client id the bearer token was issued to."""
        token = get_access_token()
        return token.client_id if token is not None else "anonymous"

    @server.tool()
    def stats() -> str:
        """Tokens issued by code and by refresh; requests refused for a missing or stale token."""
        return json.dumps(STATS)

    return server.sse_app() if transport == "sse" else server.streamable_http_app()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--transport", choices=["http", "sse"], default="http")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--token-ttl", type=int, default=3600)
    args = parser.parse_args()
    app = build(args.port, args.transport, args.token_ttl)
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", args.port))
    sock.listen(64)
    print(f"READY {args.port}", flush=True)
    sys.stdout.flush()
    uvicorn.Server(uvicorn.Config(app, log_level="warning", timeout_graceful_shutdown=1)).run(sockets=[sock])


if __name__ == "__main__":
    main()
