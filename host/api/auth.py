"""Who is calling: the server password (``SECURE=true``), a per-user API key, or (open server) anyone.

Every route but health needs a credential when the server has a password. The credential becomes the
request's actor (``host.domain.actor``: ``scope["state"]["actor"]`` and ``current_actor()``):

- the server password (or any request to an open server) acts as the admin, as the default user or as the
  user a ``user_id`` header names (Letta's behaviour); a malformed ``user_id`` is a 400, an unknown one a 404;
- a user key (``ahk-...``, host.services.tenants) acts as its user; a ``user_id`` header naming anyone else
  is a 403; an unknown or revoked key is a 401 (keys are looked up on every request, so revocation is
  immediate).
"""

from __future__ import annotations

import hmac
import json

from starlette.types import ASGIApp, Receive, Scope, Send

from host.domain.actor import DEFAULT_ACTOR, Actor, reset_actor, set_actor
from host.errors import AuthError, ForbiddenError, HostError

OPEN_PATHS = {"/v1/health", "/v1/health/", "/", "/agents", "/agents/",
              "/v1/auth", "/v1/auth/"}  # /v1/auth checks the password itself
# The web UI's shell and static assets (no data: the UI asks for the password and sends it to /v1).
OPEN_PREFIXES = ("/ui/", "/agents/")
_UNAUTHORIZED = ("Unauthorized: send 'Authorization: Bearer <password or API key>' "
                 "(or 'X-BARE-PASSWORD: password <password>')")
# An MCP server's OAuth provider redirects a browser here, which carries no password (README: "MCP servers
# behind OAuth"): the route needs the credential as in Letta, and the 401 says how to finish by hand.
OAUTH_CALLBACK = "/v1/tools/mcp/oauth/callback"
_CALLBACK_HINT = (" - this is an MCP server's OAuth redirect, which a browser sends without the password: send "
                  "this same URL (code and state included, within 10 minutes) with the credential, e.g. "
                  "curl -H 'Authorization: Bearer <password>' '<this URL>'")


def _presented(headers: dict[bytes, bytes]) -> str | None:
    auth = headers.get(b"authorization", b"").decode("latin-1").strip()
    if auth.lower().startswith("bearer "):
        return auth[7:].strip()
    bare = headers.get(b"x-bare-password", b"").decode("latin-1").strip()
    if bare.lower().startswith("password "):
        return bare[9:].strip()
    return None


def password_ok(presented: str | None, password: str) -> bool:
    return presented is not None and hmac.compare_digest(presented.encode(), password.encode())


async def _send_error(send: Send, status: int, detail: str) -> None:
    headers = [(b"content-type", b"application/json")]
    if status == 401:
        headers.append((b"www-authenticate", b"Bearer"))
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": json.dumps({"detail": detail}).encode()})


class PasswordMiddleware:
    """Resolves the actor of every HTTP request (``password`` None: an open server, everyone is admin)."""

    def __init__(self, app: ASGIApp, password: str | None) -> None:
        self.app = app
        self.password = password or None

    async def _actor(self, scope: Scope, headers: dict[bytes, bytes]) -> Actor:
        from host.services.tenants import is_user_key

        presented = _presented(headers)
        raw_user = headers.get(b"user_id", headers.get(b"user-id"))
        user_id = raw_user.decode("latin-1").strip() if raw_user is not None else None
        services = (scope.get("state") or {}).get("services")
        if presented and is_user_key(presented) and services is not None:
            actor = await services.tenants.actor_for_key(presented)
            if actor is None:
                raise AuthError("Unauthorized: unknown or revoked API key")
            if user_id and user_id != actor.user_id:
                raise ForbiddenError("a user key acts only as its own user: the user_id header names another user")
            return actor
        if self.password is not None and not password_ok(presented, self.password):
            raise AuthError(_UNAUTHORIZED)
        if user_id and services is not None:
            return await services.tenants.admin_as(user_id)
        return DEFAULT_ACTOR

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "")
        if (scope["type"] != "http" or path in OPEN_PATHS or path.startswith(OPEN_PREFIXES)
                or scope.get("method") == "OPTIONS"):
            await self.app(scope, receive, send)
            return
        try:
            actor = await self._actor(scope, dict(scope.get("headers") or []))
        except HostError as exc:
            hint = _CALLBACK_HINT if exc.status_code == 401 and path.rstrip("/") == OAUTH_CALLBACK else ""
            await _send_error(send, exc.status_code, exc.detail + hint)
            return
        scope.setdefault("state", {})["actor"] = actor
        token = set_actor(actor)
        try:
            await self.app(scope, receive, send)
        finally:
            reset_actor(token)
