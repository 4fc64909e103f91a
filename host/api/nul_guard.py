"""A REST request whose JSON body holds a NUL character (U+0000) is refused with a 422 naming the field.

Postgres cannot store U+0000 in ``text`` or ``jsonb``: without this check such a request was a 500 from
the database on Postgres and stored as sent on SQLite. JSON carries a NUL only as the escape ``\\u0000``,
so a body without that sequence is passed on untouched (one substring search); one with it is parsed to
find the field. Only ``/v1/`` JSON bodies: the MCP endpoint answers in JSON-RPC, uploads are multipart.
"""

from __future__ import annotations

import json

from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from host.storable import nul_path

_WRITES = frozenset({"POST", "PUT", "PATCH"})


class NulGuardMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] not in _WRITES or not scope["path"].startswith("/v1/") \
                or not _is_json(scope):
            await self.app(scope, receive, send)
            return
        chunks, message = [], await receive()
        while message["type"] == "http.request":
            chunks.append(message.get("body", b""))
            if not message.get("more_body", False):
                break
            message = await receive()
        body = b"".join(chunks)
        if b"\\u0000" in body and (where := _where(body)) is not None:
            detail = f"{where} contains a NUL character (\\u0000), which cannot be stored; remove it"
            await JSONResponse({"detail": detail}, status_code=422)(scope, receive, send)
            return
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        await self.app(scope, replay, send)


def _is_json(scope: Scope) -> bool:
    for name, value in scope.get("headers") or []:
        if name == b"content-type":
            return b"json" in value.lower()
    return False


def _where(body: bytes) -> str | None:
    try:
        return nul_path(json.loads(body))
    except ValueError:
        return None  # not JSON after all: the route answers that
