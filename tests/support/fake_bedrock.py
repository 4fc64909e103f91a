"""A loopback fake of the Amazon Bedrock runtime (Converse API; what litellm's ``bedrock/`` route calls).

Implemented (and nothing else): ``POST /model/<model-id>/converse`` (JSON),
``POST /model/<model-id>/converse-stream`` (AWS event-stream binary frames: ``messageStart``,
``contentBlockStart`` / ``contentBlockDelta`` / ``contentBlockStop`` with text, ``toolUse`` input
fragments and ``reasoningContent``, ``messageStop``, ``metadata`` with usage) and
``POST /model/<model-id>/invoke`` for Titan text embeddings (``{"inputText"}`` -> ``{"embedding"}``).
Requests must be SigV4-signed for the configured access key (the ``Authorization`` header's credential
scope is checked, the signature is not); errors answer ``{"message": ...}`` with ``x-amzn-ErrorType``
as Bedrock does.

    with FakeBedrock(access_key="AKIDTEST") as fake:     # AWS_BEDROCK_RUNTIME_ENDPOINT: fake.url
        fake.push_tool_call("send_message", {"message": "hi"})
"""

from __future__ import annotations

import binascii
import json
import struct
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

from tests.support.fake_providers import FakeProvider, Prompt, split, split_json, unwrap_user_text, usage_counts
from tests.support.scripted_llm import Reply, embed_text

_ERROR_TYPES = {400: "ValidationException", 403: "AccessDeniedException", 404: "ResourceNotFoundException",
                429: "ThrottlingException", 500: "InternalServerException", 503: "ServiceUnavailableException"}  # fmt: skip


def event_frame(event_type: str, payload: dict[str, Any]) -> bytes:
    """One AWS event-stream message: prelude, string headers, JSON payload, CRC32s."""
    headers = b""
    for name, value in ((":event-type", event_type), (":content-type", "application/json"), (":message-type", "event")):
        raw = value.encode()
        headers += bytes([len(name)]) + name.encode() + b"\x07" + struct.pack(">H", len(raw)) + raw
    body = json.dumps(payload).encode()
    total = 12 + len(headers) + len(body) + 4
    prelude = struct.pack(">II", total, len(headers))
    message = prelude + struct.pack(">I", binascii.crc32(prelude)) + headers + body
    return message + struct.pack(">I", binascii.crc32(message))


class FakeBedrock(FakeProvider):
    def __init__(self, *, access_key: str = "AKIDTEST", region: str = "us-east-1", embedding_dim: int = 1024,
                 stream_chunk_chars: int = 4) -> None:  # fmt: skip
        super().__init__(api_key=access_key, stream_chunk_chars=stream_chunk_chars)
        self.region = region
        self.embedding_dim = embedding_dim
        self.app = Starlette(routes=[Route("/model/{model_id}/{action}", self._model, methods=["POST"])])

    async def _model(self, request: Request) -> Response:
        recorded, seq = await self._record(request)
        scope = f"Credential={self.api_key}/"
        auth = recorded.headers.get("authorization", "")
        if not auth.startswith("AWS4-HMAC-SHA256 ") or scope not in auth or f"/{self.region}/bedrock/" not in auth:
            return _error(403, "The security token included in the request is invalid.")
        model, action = request.path_params["model_id"], request.path_params["action"]
        body = recorded.body
        if action == "invoke" and "titan-embed" in model:
            vector = embed_text(str(body.get("inputText", "")), int(body.get("dimensions") or self.embedding_dim))
            return JSONResponse({"embedding": vector, "inputTextTokenCount": len(str(body.get("inputText")).split())})
        if action not in ("converse", "converse-stream"):
            return _error(400, f"The action {action!r} is not served by this fake.")
        reply = await self._reply(_prompt(model, body))
        if reply.kind == "error":
            return _error(reply.status, reply.text or "")
        if reply.kind == "garbage":
            return Response("<html>this is not a converse answer {{{", media_type="application/json")
        prompt_tokens, completion_tokens = usage_counts(body, reply)
        usage = {"inputTokens": prompt_tokens, "outputTokens": completion_tokens,
                 "totalTokens": prompt_tokens + completion_tokens}  # fmt: skip
        stop = "tool_use" if reply.tool_calls else "end_turn"
        if action == "converse":
            message = {"role": "assistant", "content": _blocks(reply, seq)}
            return JSONResponse({"output": {"message": message}, "stopReason": stop, "usage": usage,
                                 "metrics": {"latencyMs": 1}})  # fmt: skip
        frames = _frames(reply, seq, stop, usage, self.stream_chunk_chars)
        return StreamingResponse(frames, media_type="application/vnd.amazon.eventstream")


def _error(status: int, message: str) -> Response:
    kind = _ERROR_TYPES.get(status, "InternalServerException")
    return JSONResponse({"message": message}, status_code=status, headers={"x-amzn-ErrorType": f"{kind}:"})


def _prompt(model: str, body: dict[str, Any]) -> Prompt:
    last = ""
    for message in reversed(body.get("messages") or []):
        texts = [b["text"] for b in message.get("content") or [] if "text" in b]
        if message.get("role") == "user" and texts:
            last = unwrap_user_text(texts[-1])
            break
    tools = {}
    for tool in (body.get("toolConfig") or {}).get("tools") or []:
        spec = tool.get("toolSpec") or {}
        tools[spec.get("name", "")] = (spec.get("inputSchema") or {}).get("json") or {}
    return Prompt(model, last, tools)


def _blocks(reply: Reply, seq: int) -> list[dict[str, Any]]:
    blocks: list[dict[str, Any]] = []
    if reply.reasoning:
        blocks.append({"reasoningContent": {"reasoningText": {"text": reply.reasoning, "signature": f"sig-{seq}"}}})
    if reply.text:
        blocks.append({"text": reply.text})
    for i, call in enumerate(reply.tool_calls):
        blocks.append({"toolUse": {"toolUseId": f"tooluse_{seq}_{i}", "name": call.name, "input": call.arguments}})
    return blocks


async def _frames(reply: Reply, seq: int, stop: str, usage: dict[str, int], size: int):  # noqa: ANN202
    yield event_frame("messageStart", {"role": "assistant"})
    index = 0
    if reply.reasoning:
        for piece in split(reply.reasoning, size):
            delta = {"reasoningContent": {"text": piece}}
            yield event_frame("contentBlockDelta", {"delta": delta, "contentBlockIndex": index})
        delta = {"reasoningContent": {"signature": f"sig-{seq}"}}
        yield event_frame("contentBlockDelta", {"delta": delta, "contentBlockIndex": index})
        yield event_frame("contentBlockStop", {"contentBlockIndex": index})
        index += 1
    if reply.text:
        for piece in split(reply.text, size):
            yield event_frame("contentBlockDelta", {"delta": {"text": piece}, "contentBlockIndex": index})
        yield event_frame("contentBlockStop", {"contentBlockIndex": index})
        index += 1
    for i, call in enumerate(reply.tool_calls):
        start = {"toolUse": {"toolUseId": f"tooluse_{seq}_{i}", "name": call.name}}
        yield event_frame("contentBlockStart", {"start": start, "contentBlockIndex": index})
        for piece in split_json(call.arguments):
            delta = {"toolUse": {"input": piece}}
            yield event_frame("contentBlockDelta", {"delta": delta, "contentBlockIndex": index})
        yield event_frame("contentBlockStop", {"contentBlockIndex": index})
        index += 1
    yield event_frame("messageStop", {"stopReason": stop})
    yield event_frame("metadata", {"usage": usage, "metrics": {"latencyMs": 1}})
