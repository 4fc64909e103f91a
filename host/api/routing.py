"""Trailing slashes: every route answers with and without one, never redirecting.

letta-client 0.1.x calls collection routes as ``/v1/agents/``; other clients call ``/v1/agents``. Routes are
declared once (collections with Letta's trailing slash) and ``TrailingSlashMiddleware`` rewrites the
request path to the declared form before routing — cheaper than registering every route twice.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from starlette.routing import BaseRoute, Match
from starlette.types import ASGIApp, Receive, Scope, Send

from host.domain.actor import DEFAULT_ACTOR, Actor
from host.services import Services


class SlashRouter(APIRouter):
    """The routers of the REST API (slashes are handled by the middleware), each offered only the requests under
    the first two path segments of one of its routes (``/v1/agents``...).

    FastAPI tries an app's routers in turn and, within each, its routes one by one (a regular expression and some
    bookkeeping each): a request for a route of a late router paid for every route before it, about 0.9 ms for
    the 1.x conversation routes. A router none of whose routes starts like the path now declines at once."""

    _heads: frozenset[str] | None = None
    _heads_of = -1  # the number of routes ``_heads`` was computed for (routes are added after construction)

    def matches(self, scope: Scope) -> tuple[Match, Scope]:
        if scope["type"] == "http":
            if self._heads_of != len(self.routes):
                self._heads, self._heads_of = _heads(self.routes), len(self.routes)
            if self._heads is not None and _head(_route_path(scope)) not in self._heads:
                return Match.NONE, {}
        return super().matches(scope)


def _route_path(scope: Scope) -> str:
    """The path the routes match: the request's, less the ``root_path`` a proxy mounted the app under."""
    path: str = scope["path"]
    root: str = scope.get("root_path", "")
    return path[len(root):] if root and path.startswith(root) else path


def _head(path: str) -> str:
    """The first two segments of ``path``: ``/v1/agents/agent-1/messages`` -> ``/v1/agents``."""
    return "/".join(path.split("/", 3)[:3])


def _heads(routes: list[BaseRoute]) -> frozenset[str] | None:
    """The heads of ``routes``' paths; None when one is not literal there (a parameter), so any path may match."""
    heads = {_head(getattr(route, "path", "{}")) for route in routes}
    return None if any("{" in head for head in heads) else frozenset(heads)


class TrailingSlashMiddleware:
    def __init__(self, app: ASGIApp, routers: Any) -> None:
        self.app = app
        self._slashed = frozenset(r.path for router in routers for r in router.routes
                                  if getattr(r, "path", "").endswith("/") and "{" not in r.path)

    def _slashed_paths(self) -> frozenset[str]:
        return self._slashed

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            path: str = scope["path"]
            slashed = self._slashed_paths()
            new = path
            if path.endswith("/") and len(path) > 1 and path not in slashed:
                new = path.rstrip("/") or "/"
            elif not path.endswith("/") and path + "/" in slashed:
                new = path + "/"
            if new != path:
                scope = dict(scope, path=new, raw_path=new.encode())
        await self.app(scope, receive, send)


async def services(request: Request) -> Services:
    # async: FastAPI runs a plain-function dependency in a worker thread, a thread hop per request
    return request.state.services


async def actor(request: Request) -> Actor:
    """The request's actor, resolved by host.api.auth (the default admin when no credential was needed)."""
    return getattr(request.state, "actor", DEFAULT_ACTOR)
