"""Request bodies are refused with a 413 naming the limit as soon as they pass it, never buffered whole.

A ``Content-Length`` over the limit is answered before a byte of the body is read; a body without one (chunked)
is counted as it arrives and refused at the first chunk that passes the limit. Multipart bodies (file uploads)
have their own, larger limit. Once the 413 is sent, whatever the application still tries to send is dropped.
"""

from __future__ import annotations

import json

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from host.settings import Limits


class _TooLarge(Exception):
    """Raised into the application's ``receive`` once the 413 has been sent."""


def _header(scope: Scope, name: bytes) -> bytes | None:
    for key, value in scope.get("headers") or []:
        if key == name:
            return value
    return None


class BodyLimitMiddleware:
    def __init__(self, app: ASGIApp, limits: Limits) -> None:
        self.app = app
        self.limits = limits

    def _limit(self, scope: Scope) -> tuple[int, str, str]:
        content_type = (_header(scope, b"content-type") or b"").lower()
        if content_type.startswith(b"multipart/"):
            return self.limits.max_upload_bytes, "upload", "AGENTHOST_MAX_UPLOAD_BYTES"
        return self.limits.max_body_bytes, "request body", "AGENTHOST_MAX_BODY_BYTES"

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit, what, variable = self._limit(scope)
        declared = _header(scope, b"content-length")
        if declared is not None and declared.strip().isdigit() and int(declared) > limit:
            await _refuse(send, f"The {what} is {int(declared)} bytes; the limit is {limit} bytes "
                                f"(set {variable} to change it)")
            return
        received = 0
        refused = False

        async def counting() -> Message:
            nonlocal received, refused
            if refused:
                raise _TooLarge
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    refused = True
                    if not started:
                        await _refuse(send, f"The {what} is over the limit of {limit} bytes "
                                            f"(set {variable} to change it)")
                    raise _TooLarge
            return message

        started = False

        async def tracking(message: Message) -> None:
            nonlocal started
            if refused:
                return  # the 413 went out instead
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, counting, tracking)
        except Exception:
            if not refused:
                raise


async def _refuse(send: Send, detail: str) -> None:
    body = json.dumps({"detail": detail}).encode()
    await send({"type": "http.response.start", "status": 413,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]})
    await send({"type": "http.response.body", "body": body})
