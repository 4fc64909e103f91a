"""A loopback fake of Anthropic's Messages API (what litellm's ``anthropic/`` route calls).

Implemented (and nothing else): ``POST /v1/messages``, answered as JSON or, with ``"stream": true``, as
Anthropic's SSE events (``message_start``, ``content_block_start`` / ``_delta`` / ``_stop`` with
``thinking_delta``, ``signature_delta``, ``text_delta`` and ``input_json_delta``, ``message_delta``,
``message_stop``). A scripted reasoning becomes a ``thinking`` block (with a signature), text a ``text``
block, tool calls ``tool_use`` blocks. ``x-api-key`` must be the configured key (else 401) and
``anthropic-version`` must be present (else 400), each with Anthropic's error body
``{"type": "error", "error": {"type": ..., "message": ...}}``.

    with FakeAnthropic(api_key="sk-ant-test") as fake:     # litellm api_base: fake.url
        fake.push_tool_call("send_message", {"message": "hi"})
"""

from __future__ import annotations

import json
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

from tests.support.fake_providers import FakeProvider, Prompt, split, split_json, unwrap_user_text, usage_counts
from tests.support.scripted_llm import Reply

_ERROR_TYPES = {400: "invalid_request_error", 401: "authentication_error", 403: "permission_error",
                404: "not_found_error", 413: "request_too_large", 429: "rate_limit_error", 529: "overloaded_error"}  # fmt: skip


def error_body(status: int, message: str) -> dict[str, Any]:
    return {"type": "error", "error": {"type": _ERROR_TYPES.get(status, "api_error"), "message": message}}


class FakeAnthropic(FakeProvider):
    def __init__(self, *, api_key: str = "sk-ant-test", stream_chunk_chars: int = 4) -> None:
        super().__init__(api_key=api_key, stream_chunk_chars=stream_chunk_chars)
        self.app = Starlette(routes=[Route("/v1/messages", self._messages, methods=["POST"])])

    async def _messages(self, request: Request) -> Response:
        recorded, seq = await self._record(request)
        if recorded.headers.get("x-api-key") != self.api_key:
            return JSONResponse(error_body(401, "invalid x-api-key"), status_code=401)
        if not recorded.headers.get("anthropic-version"):
            return JSONResponse(error_body(400, "anthropic-version: header is required"), status_code=400)
        body = recorded.body
        reply = await self._reply(_prompt(body))
        if reply.kind == "error":
            return JSONResponse(error_body(reply.status, reply.text or ""), status_code=reply.status)
        if reply.kind == "garbage":
            return Response("<html>this is not a message {{{", media_type="application/json")
        blocks = _blocks(reply, seq)
        prompt_tokens, completion_tokens = usage_counts(body, reply)
        stop = "tool_use" if reply.tool_calls else "end_turn"
        message = {"id": f"msg_{seq}", "type": "message", "role": "assistant", "model": body["model"],
                   "content": blocks, "stop_reason": stop, "stop_sequence": None,
                   "usage": {"input_tokens": prompt_tokens, "output_tokens": completion_tokens}}  # fmt: skip
        if not body.get("stream"):
            return JSONResponse(message)
        events = _events(message, self.stream_chunk_chars)
        return StreamingResponse(events, media_type="text/event-stream")


def _prompt(body: dict[str, Any]) -> Prompt:
    last = ""
    for message in reversed(body.get("messages") or []):
        content = message.get("content")
        if message.get("role") != "user":
            continue
        texts = (
            [content] if isinstance(content, str) else [b.get("text", "") for b in content if b.get("type") == "text"]
        )
        if texts:
            last = unwrap_user_text(texts[-1])
            break
    tools = {t["name"]: t.get("input_schema") or {} for t in body.get("tools") or []}
    return Prompt(str(body.get("model", "")), last, tools)


def _blocks(reply: Reply, seq: int) -> list[dict[str, Any]]:
    blocks: list[dict[str, Any]] = []
    if reply.reasoning:
        blocks.append({"type": "thinking", "thinking": reply.reasoning, "signature": f"sig-{seq}"})
    if reply.text:
        blocks.append({"type": "text", "text": reply.text})
    for i, call in enumerate(reply.tool_calls):
        blocks.append({"type": "tool_use", "id": f"toolu_{seq}_{i}", "name": call.name, "input": call.arguments})
    return blocks


async def _events(message: dict[str, Any], size: int):  # noqa: ANN202
    def event(kind: str, data: dict[str, Any]) -> str:
        return f"event: {kind}\ndata: {json.dumps({'type': kind, **data})}\n\n"

    usage = message["usage"]
    start = {**message, "content": [], "stop_reason": None, "usage": {**usage, "output_tokens": 1}}
    yield event("message_start", {"message": start})
    for index, block in enumerate(message["content"]):
        if block["type"] == "thinking":
            yield event("content_block_start", {"index": index, "content_block": {"type": "thinking", "thinking": ""}})
            for piece in split(block["thinking"], size):
                yield event(
                    "content_block_delta", {"index": index, "delta": {"type": "thinking_delta", "thinking": piece}}
                )
            signature = {"type": "signature_delta", "signature": block["signature"]}
            yield event("content_block_delta", {"index": index, "delta": signature})
        elif block["type"] == "text":
            yield event("content_block_start", {"index": index, "content_block": {"type": "text", "text": ""}})
            for piece in split(block["text"], size):
                yield event("content_block_delta", {"index": index, "delta": {"type": "text_delta", "text": piece}})
        else:
            head = {"type": "tool_use", "id": block["id"], "name": block["name"], "input": {}}
            yield event("content_block_start", {"index": index, "content_block": head})
            for piece in split_json(block["input"]):
                delta = {"type": "input_json_delta", "partial_json": piece}
                yield event("content_block_delta", {"index": index, "delta": delta})
        yield event("content_block_stop", {"index": index})
    delta = {"stop_reason": message["stop_reason"], "stop_sequence": None}
    yield event("message_delta", {"delta": delta, "usage": {"output_tokens": usage["output_tokens"]}})
    yield event("message_stop", {})
