"""Password protection (``SECURE=true``): every route but health needs the server password."""

from __future__ import annotations

import hmac
import json

from starlette.types import ASGIApp, Receive, Scope, Send

OPEN_PATHS = {"/v1/health", "/v1/health/", "/", "/agents", "/agents/",
              "/v1/auth", "/v1/auth/"}  # /v1/auth checks the password itself
# The web UI's shell and static assets (no data: the UI asks for the password and sends it to /v1).
OPEN_PREFIXES = ("/ui/", "/agents/")


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


class PasswordMiddleware:
    def __init__(self, app: ASGIApp, password: str) -> None:
        self.app = app
        self.password = password

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "")
        if (scope["type"] != "http" or path in OPEN_PATHS or path.startswith(OPEN_PREFIXES)
                or scope.get("method") == "OPTIONS"):
            await self.app(scope, receive, send)
            return
        headers = dict(scope.get("headers") or [])
        if password_ok(_presented(headers), self.password):
            await self.app(scope, receive, send)
            return
        body = json.dumps({"detail": "Unauthorized: send 'Authorization: Bearer <password>' "
                                     "(or 'X-BARE-PASSWORD: password <password>')"}).encode()
        await send({"type": "http.response.start", "status": 401,
                    "headers": [(b"content-type", b"application/json"), (b"www-authenticate", b"Bearer")]})
        await send({"type": "http.response.body", "body": body})
