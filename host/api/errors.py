"""The one place where exceptions become HTTP responses. No traceback ever reaches a client."""

from __future__ import annotations

import logging
import re
import uuid
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DBAPIError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from host.api.v1gen.generation import is_v1
from host.errors import HostError

logger = logging.getLogger(__name__)

_AGENT_ID = re.compile(r"agent-[0-9a-fA-F-]{8,}")


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(HostError)
    async def _host_error(request: Request, exc: HostError) -> JSONResponse:
        if exc.status_code >= 500:  # an outage the operator must see (a provider, E2B, an MCP server)
            agent = _AGENT_ID.search(request.url.path)
            logger.warning("%s %s -> %d: %s", request.method, request.url.path, exc.status_code, exc.detail,
                           extra={"agent_id": agent.group(0) if agent else None})
        return JSONResponse({"detail": exc.detail}, status_code=exc.status_code)

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        detail = _parse_failure(exc.__cause__) if exc.status_code == 400 else None
        return JSONResponse({"detail": detail or exc.detail}, status_code=exc.status_code,
                            headers=getattr(exc, "headers", None))

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = []
        for err in exc.errors():
            item = {k: v for k, v in err.items() if k in ("type", "loc", "msg", "input")}
            if "input" in item and not isinstance(item["input"], (str, int, float, bool, list, dict, type(None))):
                item["input"] = str(item["input"])
            if err.get("type") == "json_invalid" and isinstance(exc.body, str):
                item["msg"] = _json_position(err, exc.body)
            errors.append(item)
        if is_v1(request):  # Letta 0.16's shape, which the 1.x SDKs expect: the list's repr as a string
            return JSONResponse({"trace_id": "", "detail": repr(errors)}, status_code=422)
        return JSONResponse({"detail": errors}, status_code=422)

    @app.exception_handler(DBAPIError)
    async def _database(request: Request, exc: DBAPIError) -> JSONResponse:
        # A value the database refuses (Postgres: too long for its column, a character it cannot store, an
        # index entry over its size limit) is the request's fault, not the server's: a 422 saying why.
        # The schemas catch the usual cases first and name the field.
        state = str(getattr(exc.orig, "sqlstate", None) or getattr(exc.orig, "pgcode", None) or "")
        if state.startswith("22") or state == "54000":
            reason = str(getattr(exc.orig, "args", [""])[0] or exc.orig).splitlines()[0]
            return JSONResponse({"detail": f"A value does not fit the database: {reason}"}, status_code=422)
        return await _unexpected(request, exc)

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        return internal_error(request.method, request.url.path, exc)


def _parse_failure(cause: BaseException | None) -> str | None:
    """Why FastAPI could not parse a body (it answers only "There was an error parsing the body")."""
    if isinstance(cause, UnicodeDecodeError):
        return f"The JSON body cannot be decoded: invalid UTF-8 at byte {cause.start} ({cause.reason})"
    if isinstance(cause, RecursionError):
        return "The JSON body is nested too deeply to parse (nesting too deep); flatten it"
    return None


def _json_position(err: dict[str, Any], doc: str) -> str:
    loc = err.get("loc") or ()
    pos = loc[1] if len(loc) > 1 and isinstance(loc[1], int) else None
    reason = (err.get("ctx") or {}).get("error") or "invalid JSON"
    if pos is None:
        return f"JSON decode error: {reason}"
    line = doc.count("\n", 0, pos) + 1
    column = pos - doc.rfind("\n", 0, pos)
    return f"JSON decode error: {reason} at line {line} column {column} (char {pos})"


def internal_error(method: str, path: str, exc: BaseException) -> JSONResponse:
    ref = uuid.uuid4().hex[:12]
    logger.error("unhandled error on %s %s (ref %s)", method, path, ref, exc_info=exc)
    return JSONResponse({"detail": f"Internal server error (ref {ref}); see the server log"}, status_code=500)


class LastResortMiddleware:
    """The outermost middleware: an exception no handler took becomes a 500 here, and is not raised further.

    Starlette's ``ServerErrorMiddleware`` sends the 500 of the ``Exception`` handler and then re-raises, and
    uvicorn closes the connection of an application that raised: a keep-alive client lost its connection
    with the error ("Server disconnected without sending a response" on its next request). Answering here
    and returning normally keeps the connection. An error after the response started cannot be answered:
    it is logged, and the server ends that response as uvicorn does.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def tracking(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, receive, tracking)
        except Exception as exc:
            if started:
                raise
            await internal_error(scope["method"], scope["path"], exc)(scope, receive, send)
