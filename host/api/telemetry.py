"""Telemetry routes and request metrics.

    GET   /v1/telemetry/{step_id}                        ProviderTrace (the step's model request and response)
    PATCH /v1/steps/{step_id}/transaction/{transaction_id}   Step (its ``tid``)
    GET   /metrics                                       Prometheus text format (behind the password with SECURE)

``RequestMetricsMiddleware`` counts every HTTP request by method, route template and status.
"""

from __future__ import annotations

import time
from typing import Any

from fastapi import Request, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from host.api.agents import Svc
from host.api.routing import SlashRouter
from host.errors import InvalidRequestError
from host.services.telemetry import Telemetry

router = SlashRouter()

_TID_MAX = 128


@router.get("/v1/telemetry/{step_id}", operation_id="retrieve_provider_trace", tags=["telemetry"])
async def retrieve_provider_trace(step_id: str, svc: Svc) -> dict[str, Any]:
    return await svc.traces.get(step_id)


@router.patch("/v1/steps/{step_id}/transaction/{transaction_id}", operation_id="update_step_transaction_id",
              tags=["steps"])
async def update_step_transaction_id(step_id: str, transaction_id: str, svc: Svc) -> dict[str, Any]:
    if not transaction_id.strip() or len(transaction_id) > _TID_MAX:
        raise InvalidRequestError(f"transaction_id must be 1 to {_TID_MAX} characters, got {len(transaction_id)}")
    return await svc.runs.set_transaction_id(step_id, transaction_id)


@router.get("/metrics", include_in_schema=False)
async def metrics(request: Request) -> Response:
    telemetry: Telemetry = request.app.state.telemetry
    body, content_type = telemetry.render()
    return Response(body, media_type=content_type)


class RequestMetricsMiddleware:
    """Counts and times HTTP requests, labelled by the matched route's template (bounded cardinality)."""

    def __init__(self, app: ASGIApp, telemetry: Telemetry) -> None:
        self.app, self.telemetry = app, telemetry

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def sending(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        method = scope.get("method", "GET")
        with self.telemetry.span(method, {"http.request.method": method, "url.path": scope.get("path", "")}) as span:
            try:
                await self.app(scope, receive, sending)
            finally:
                route = getattr(scope.get("route"), "path", None) or "unmatched"
                self.telemetry.request(method, route, status, time.perf_counter() - started)
                if span is not None:
                    span.update_name(f"{method} {route}")
                    span.set_attribute("http.route", route)
                    span.set_attribute("http.response.status_code", status)
