"""A logging reverse proxy on loopback: forwards every request to a server and records the routes called.

One line per request, as in the reference's file: ``METHOD path?query -> status ua='...'``.
"""

from __future__ import annotations

from typing import Any

import httpx
from starlette.requests import Request
from starlette.responses import StreamingResponse

from tests.support.loopback import LoopbackServer

HOP = {"host", "content-length", "transfer-encoding", "connection"}


class RouteLog(LoopbackServer):
    def __init__(self, target: str) -> None:
        super().__init__()
        self.target = target.rstrip("/")
        self.lines: list[str] = []

        async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:  # a plain ASGI3 callable
            await self._app(scope, receive, send)

        self.app = app

    async def _app(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        request = Request(scope, receive)
        body = await request.body()
        query = f"?{request.url.query}" if request.url.query else ""
        client = httpx.AsyncClient(timeout=120)
        upstream = await client.send(client.build_request(
            request.method, f"{self.target}{request.url.path}{query}", content=body,
            headers={k: v for k, v in request.headers.items() if k.lower() not in HOP}), stream=True)
        line = f"{request.method} {request.url.path}{query} -> {upstream.status_code} " \
               f"ua={request.headers.get('user-agent', '')!r}"
        if upstream.status_code >= 400:  # an error answer is short: keep what it said
            await upstream.aread()
            line += f" body={upstream.text[:300]!r}"
        self.lines.append(line)

        async def relay() -> Any:
            try:
                if upstream.is_stream_consumed:
                    yield upstream.content
                    return
                async for chunk in upstream.aiter_raw():
                    yield chunk
            finally:
                await upstream.aclose()
                await client.aclose()

        headers = {k: v for k, v in upstream.headers.items() if k.lower() not in HOP}
        await StreamingResponse(relay(), status_code=upstream.status_code, headers=headers)(scope, receive, send)
