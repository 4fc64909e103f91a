"""A loopback fake of the Gemini API (Google AI Studio; what litellm's ``gemini/`` route calls).

Implemented (and nothing else), under any version prefix (``/v1beta``, ``/v1alpha``):
``POST /<v>/models/<model>:generateContent``, ``:streamGenerateContent?alt=sse`` (one JSON
``GenerateContentResponse`` per SSE event: text in small pieces, each function call whole, the finish
reason and ``usageMetadata`` in the last), ``:batchEmbedContents`` (hashed bag-of-words vectors, as the
scripted server's), and ``GET /<v>/models``. A scripted reasoning becomes a ``{"text", "thought": true}``
part, text a text part, tool calls ``functionCall`` parts. ``x-goog-api-key`` (or ``?key=``) must be the
configured key, else 400 ``API_KEY_INVALID`` as Google answers; errors use Google's body
``{"error": {"code", "message", "status"}}``.

    with FakeGemini(api_key="gemini-test") as fake:     # litellm api_base: fake.url + "/v1beta"
        fake.push_tool_call("send_message", {"message": "hi"})
"""

from __future__ import annotations

import json
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

from tests.support.fake_providers import FakeProvider, Prompt, split, unwrap_user_text, usage_counts, word_count
from tests.support.scripted_llm import Reply, embed_text

_STATUS = {400: "INVALID_ARGUMENT", 403: "PERMISSION_DENIED", 404: "NOT_FOUND", 429: "RESOURCE_EXHAUSTED",
           500: "INTERNAL", 503: "UNAVAILABLE"}  # fmt: skip


def error_body(status: int, message: str) -> dict[str, Any]:
    return {"error": {"code": status, "message": message, "status": _STATUS.get(status, "UNKNOWN")}}


class FakeGemini(FakeProvider):
    def __init__(self, *, api_key: str = "gemini-test", models: list[str] | None = None, embedding_dim: int = 768,
                 stream_chunk_chars: int = 4) -> None:  # fmt: skip
        super().__init__(api_key=api_key, stream_chunk_chars=stream_chunk_chars)
        self.models = list(models or ["gemini-2.0-flash", "text-embedding-004"])
        self.embedding_dim = embedding_dim
        self.app = Starlette(
            routes=[
                Route("/{version}/models", self._list, methods=["GET"]),
                Route("/{version}/models/{target}", self._call, methods=["POST"]),
            ]
        )

    @property
    def base_url(self) -> str:
        return f"{self.url}/v1beta"

    def _authorised(self, request: Request) -> bool:
        return (request.headers.get("x-goog-api-key") or request.query_params.get("key")) == self.api_key

    async def _list(self, request: Request) -> Response:
        await self._record(request)
        if not self._authorised(request):
            return _error(400, "API key not valid. Please pass a valid API key.")
        return JSONResponse({"models": [{"name": f"models/{m}", "displayName": m} for m in self.models]})

    async def _call(self, request: Request) -> Response:
        recorded, _ = await self._record(request)
        if not self._authorised(request):
            return _error(400, "API key not valid. Please pass a valid API key.")
        model, _, method = request.path_params["target"].partition(":")
        body = recorded.body
        if method == "batchEmbedContents":
            return self._embed(body)
        if method not in ("generateContent", "streamGenerateContent"):
            return _error(404, f"Method {method!r} is not found for models/{model}.")
        reply = await self._reply(_prompt(model, body))
        if reply.kind == "error":
            return _error(reply.status, reply.text or "")
        if reply.kind == "garbage":
            return Response("<html>this is not a response {{{", media_type="application/json")
        prompt_tokens, completion_tokens = usage_counts(body, reply)
        usage = {"promptTokenCount": prompt_tokens, "candidatesTokenCount": completion_tokens,
                 "totalTokenCount": prompt_tokens + completion_tokens}  # fmt: skip
        if reply.reasoning:
            usage["thoughtsTokenCount"] = word_count(reply.reasoning)
        if method == "generateContent":
            return JSONResponse(_response(model, _parts(reply), "STOP", usage))
        return StreamingResponse(_stream(model, reply, usage, self.stream_chunk_chars), media_type="text/event-stream")

    def _embed(self, body: dict[str, Any]) -> Response:
        vectors = []
        for item in body.get("requests") or []:
            text = " ".join(p.get("text", "") for p in (item.get("content") or {}).get("parts") or [])
            dim = int(item.get("outputDimensionality") or item.get("output_dimensionality") or self.embedding_dim)
            vectors.append({"values": embed_text(text, dim)})
        return JSONResponse({"embeddings": vectors})


def _error(status: int, message: str) -> Response:
    return JSONResponse(error_body(status, message), status_code=status)


def _prompt(model: str, body: dict[str, Any]) -> Prompt:
    last = ""
    for content in reversed(body.get("contents") or []):
        texts = [p["text"] for p in content.get("parts") or [] if "text" in p]
        if content.get("role", "user") == "user" and texts:
            last = unwrap_user_text(texts[-1])
            break
    tools: dict[str, dict[str, Any]] = {}
    for tool in body.get("tools") or []:
        for declaration in tool.get("function_declarations") or tool.get("functionDeclarations") or []:
            tools[declaration["name"]] = declaration.get("parameters") or {}
    return Prompt(model, last, tools)


def _parts(reply: Reply) -> list[dict[str, Any]]:
    parts: list[dict[str, Any]] = []
    if reply.reasoning:
        parts.append({"text": reply.reasoning, "thought": True})
    if reply.text:
        parts.append({"text": reply.text})
    parts += [{"functionCall": {"name": c.name, "args": c.arguments}} for c in reply.tool_calls]
    return parts


def _response(model: str, parts: list[dict[str, Any]], finish: str | None, usage: dict[str, int] | None) -> dict:
    candidate: dict[str, Any] = {"content": {"role": "model", "parts": parts}, "index": 0}
    if finish:
        candidate["finishReason"] = finish
    out: dict[str, Any] = {"candidates": [candidate], "modelVersion": model}
    if usage:
        out["usageMetadata"] = usage
    return out


async def _stream(model: str, reply: Reply, usage: dict[str, int], size: int):  # noqa: ANN202
    chunks: list[list[dict[str, Any]]] = []
    chunks += [[{"text": piece, "thought": True}] for piece in split(reply.reasoning, size)] if reply.reasoning else []
    chunks += [[{"text": piece}] for piece in split(reply.text, size)] if reply.text else []
    chunks += [[{"functionCall": {"name": c.name, "args": c.arguments}}] for c in reply.tool_calls]
    for i, parts in enumerate(chunks):
        last = i == len(chunks) - 1
        yield f"data: {json.dumps(_response(model, parts, 'STOP' if last else None, usage if last else None))}\r\n\r\n"
