"""Trailing slashes: every route answers with and without one, never redirecting.

letta-client 0.1.x calls collection routes as ``/v1/agents/``; other clients call ``/v1/agents``. Routes are
declared once (collections with Letta's trailing slash) and ``TrailingSlashMiddleware`` rewrites the
request path to the declared form before routing — cheaper than registering every route twice.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from starlette.types import ASGIApp, Receive, Scope, Send

from host.domain.actor import DEFAULT_ACTOR, Actor
from host.services import Services


class SlashRouter(APIRouter):
    """The routers of the REST API (a plain APIRouter; slashes are handled by the middleware)."""


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
