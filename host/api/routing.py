"""An APIRouter that serves every route with and without a trailing slash, never redirecting.

letta-client 0.1.x calls collection routes as ``/v1/agents/``; other clients call ``/v1/agents``.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request

from host.services import Services


class SlashRouter(APIRouter):
    def add_api_route(self, path: str, endpoint: Any, **kwargs: Any) -> None:  # type: ignore[override]
        super().add_api_route(path, endpoint, **kwargs)
        other = path[:-1] if path.endswith("/") else path + "/"
        if (other or self.prefix) and other != path and not path.endswith("}"):
            extra = dict(kwargs)
            extra["include_in_schema"] = False
            extra.pop("operation_id", None)
            super().add_api_route(other, endpoint, **extra)


def services(request: Request) -> Services:
    return request.state.services  # type: ignore[no-any-return]
