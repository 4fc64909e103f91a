"""Host and Origin checks: no web page the user visits can drive a local server (DNS rebinding, CSRF).

A page on ``http://evil.example`` can make the browser send requests to ``127.0.0.1:8283`` in two ways:
directly (the ``Origin`` header then names the page), or by re-pointing its own name at 127.0.0.1 (DNS
rebinding: the ``Host`` header then names the attacker's domain). So every request, on every route
(REST, ``/mcp``, the web UI), is checked before anything else runs:

- ``Host`` must be a name this server answers to: on a server bound to a loopback address, a loopback
  name only (``localhost``, ``*.localhost``, ``127.x.x.x``, ``[::1]``); on a server bound elsewhere, any IP
  literal (an IP cannot be re-pointed), the loopback names and the machine's host name. Anything else is
  a 421 unless listed in ``AGENTHOST_ALLOWED_HOSTS`` (comma-separated; ``*.example.com`` matches
  subdomains; ``*`` turns the check off, for a proxy that checks hosts itself).
- ``Origin``, when a browser sends one, must be this server's own origin, a loopback origin (a local
  tool's page), Letta's hosted ADE (``https://app.letta.com``) or one listed in ``ACCEPTABLE_ORIGINS``
  (Letta's variable; ``*`` allows any). Anything else is a 403, whatever the method: a cross-site form
  post or multipart upload (which browsers send without a CORS preflight) never reaches a handler.
- A state-changing request with ``Sec-Fetch-Site: cross-site`` and no ``Origin`` is refused too.

The same allowed origins are the CORS allow-list (``cors_middleware``), so a page that may call the API
can also read its answers.
"""

from __future__ import annotations

import ipaddress
import json
import logging
import re
import socket
from collections.abc import Iterable
from dataclasses import dataclass
from urllib.parse import urlsplit

from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.types import ASGIApp, Receive, Scope, Send

logger = logging.getLogger(__name__)

LETTA_ADE_ORIGIN = "https://app.letta.com"
_SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
_LOOPBACK_ORIGIN = r"https?://(localhost|[a-z0-9-]+\.localhost|127(\.\d{1,3}){3}|\[::1\])(:\d+)?"


def _ip(host: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return None


def is_loopback_name(host: str) -> bool:
    host = host.lower().rstrip(".")
    if host == "localhost" or host.endswith(".localhost"):
        return True
    ip = _ip(host)
    return ip is not None and ip.is_loopback


def split_host(value: str) -> str:
    """The host name of a ``Host`` header value (``name``, ``name:port``, ``[v6]:port``), lower-cased."""
    value = value.strip().lower()
    if value.startswith("["):
        return value[: value.find("]") + 1] if "]" in value else value
    if value.count(":") == 1:
        return value.split(":", 1)[0]
    return value


def _matches(host: str, patterns: Iterable[str]) -> bool:
    for pattern in patterns:
        if pattern == host or (pattern.startswith("*.") and host.endswith(pattern[1:])):
            return True
    return False


@dataclass(frozen=True)
class HostPolicy:
    """Which ``Host`` and ``Origin`` values a server answers; built once from the settings."""

    loopback_only: bool
    allowed_hosts: tuple[str, ...] = ()
    allowed_origins: tuple[str, ...] = ()
    own_names: tuple[str, ...] = ()

    @classmethod
    def for_bind(cls, bind_host: str, allowed_hosts: Iterable[str] = (),
                 acceptable_origins: Iterable[str] = ()) -> HostPolicy:
        loopback_only = is_loopback_name(bind_host)
        own: tuple[str, ...] = ()
        if not loopback_only:
            own = tuple(name.lower() for name in {socket.gethostname()} if name)
        origins = (LETTA_ADE_ORIGIN, *(o.strip().rstrip("/") for o in acceptable_origins if o.strip()))
        return cls(loopback_only=loopback_only,
                   allowed_hosts=tuple(h.strip().lower() for h in allowed_hosts if h.strip()),
                   allowed_origins=tuple(dict.fromkeys(origins)), own_names=own)

    @property
    def any_host(self) -> bool:
        return "*" in self.allowed_hosts

    @property
    def any_origin(self) -> bool:
        return "*" in self.allowed_origins

    def host_refusal(self, host_header: str | None) -> str | None:
        """Why this ``Host`` is refused, or None when it is served."""
        if self.any_host:
            return None
        if not host_header:
            return "the request has no Host header"
        host = split_host(host_header)
        if is_loopback_name(host) or _matches(host, self.allowed_hosts):
            return None
        if not self.loopback_only and (_ip(host) is not None or host in self.own_names):
            return None
        where = "a loopback address" if self.loopback_only else "this machine's addresses"
        return (f"Host '{host}' is not served here (the server is bound to {where}); "
                f"list it in AGENTHOST_ALLOWED_HOSTS to allow it")

    def origin_allowed(self, origin: str, host_header: str | None) -> bool:
        origin = origin.strip().rstrip("/").lower()
        if self.any_origin or origin in (o.lower() for o in self.allowed_origins):
            return True
        if re.fullmatch(_LOOPBACK_ORIGIN, origin):
            return True
        parts = urlsplit(origin)
        return bool(host_header) and parts.scheme in ("http", "https") and parts.netloc == host_header.strip().lower()

    def origin_refusal(self, method: str, origin: str | None, fetch_site: str | None,
                       host_header: str | None) -> str | None:
        if origin is not None:
            if self.origin_allowed(origin, host_header):
                return None
            return (f"cross-origin request from '{origin}' refused; list that origin in ACCEPTABLE_ORIGINS "
                    f"to allow it")
        if fetch_site == "cross-site" and method not in _SAFE_METHODS:
            return "cross-site request refused (Sec-Fetch-Site: cross-site without an allowed Origin)"
        return None


class HostGuardMiddleware:
    """Refuses a foreign ``Host`` (421) or ``Origin`` (403) before any route runs; see the module doc."""

    def __init__(self, app: ASGIApp, policy: HostPolicy) -> None:
        self.app = app
        self.policy = policy

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers") or []}
        host = headers.get("host")
        refusal = self.policy.host_refusal(host)
        status = 421
        if refusal is None:
            status = 403
            refusal = self.policy.origin_refusal(scope.get("method", "GET"), headers.get("origin"),
                                                 headers.get("sec-fetch-site"), host)
        if refusal is None:
            await self.app(scope, receive, send)
            return
        logger.warning("refused %s %s: %s", scope.get("method", ""), scope.get("path", ""), refusal)
        if scope["type"] == "websocket":
            await send({"type": "websocket.close", "code": 1008})
            return
        body = json.dumps({"detail": refusal}).encode()
        await send({"type": "http.response.start", "status": status,
                    "headers": [(b"content-type", b"application/json"),
                                (b"content-length", str(len(body)).encode())]})
        await send({"type": "http.response.body", "body": body})


def guard_middleware(policy: HostPolicy) -> list[Middleware]:
    """The Host/Origin guard, then CORS for the same allowed origins (outermost first)."""
    cors = Middleware(
        CORSMiddleware,
        allow_origins=["*"] if policy.any_origin else list(policy.allowed_origins),
        allow_origin_regex=None if policy.any_origin else _LOOPBACK_ORIGIN,
        allow_credentials=not policy.any_origin,
        allow_methods=["*"],
        allow_headers=["*"],
        expose_headers=["Server-Timing", "X-Tool-Rule-Warnings", "Mcp-Session-Id"],
    )
    return [Middleware(HostGuardMiddleware, policy=policy), cors]


__all__ = ["HostGuardMiddleware", "HostPolicy", "guard_middleware", "is_loopback_name"]
