"""A loopback fake of Ollama's native API (what litellm's ``ollama_chat/`` and ``ollama/`` embedding routes call).

Implemented (and nothing else): ``POST /api/chat`` (JSON, or with ``"stream": true`` NDJSON lines: text
in small pieces, tool calls whole with their arguments as an object, then a ``done`` line with
``done_reason`` and the token counts), ``GET /api/tags`` (the model listing agenthost reads),
``POST /api/embed`` and ``POST /api/embeddings`` (hashed bag-of-words vectors, as the scripted server's),
``POST /api/show``. A scripted reasoning becomes the message's ``thinking``. Errors use Ollama's body
``{"error": "..."}``; an unknown model is a 404 as Ollama answers.

    with FakeOllama(models=["llama3.1"]) as fake:     # OLLAMA_BASE_URL / litellm api_base: fake.url
        fake.push_tool_call("send_message", {"message": "hi"})
"""

from __future__ import annotations

import json
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

from tests.support.fake_providers import FakeProvider, Prompt, split, unwrap_user_text, usage_counts
from tests.support.scripted_llm import Reply, embed_text

CREATED_AT = "2025-06-01T00:00:00Z"


class FakeOllama(FakeProvider):
    def __init__(self, *, models: list[str] | None = None, embedding_dim: int = 768, stream_chunk_chars: int = 4,
                 strict_models: bool = True) -> None:  # fmt: skip
        super().__init__(api_key=None, stream_chunk_chars=stream_chunk_chars)
        self.models = list(models or ["llama3.1", "nomic-embed-text"])
        self.embedding_dim = embedding_dim
        self.strict_models = strict_models  # unknown model names answer 404, as a real Ollama does
        self.app = Starlette(
            routes=[
                Route("/api/chat", self._chat, methods=["POST"]),
                Route("/api/tags", self._tags, methods=["GET"]),
                Route("/api/embed", self._embed, methods=["POST"]),
                Route("/api/embeddings", self._embeddings_legacy, methods=["POST"]),
                Route("/api/show", self._show, methods=["POST"]),
            ]
        )

    def _known(self, model: str) -> bool:
        return not self.strict_models or model.removesuffix(":latest") in self.models

    async def _tags(self, request: Request) -> Response:
        await self._record(request)
        details = {"format": "gguf", "family": "llama", "parameter_size": "8B", "quantization_level": "Q4_0"}
        models = [{"name": m, "model": m, "modified_at": CREATED_AT, "size": 1, "digest": f"sha256:{i}",
                   "details": details} for i, m in enumerate(self.models)]  # fmt: skip
        return JSONResponse({"models": models})

    async def _show(self, request: Request) -> Response:
        recorded, _ = await self._record(request)
        model = str((recorded.body or {}).get("model") or (recorded.body or {}).get("name") or "")
        if not self._known(model):
            return JSONResponse({"error": f"model '{model}' not found"}, status_code=404)
        return JSONResponse({"modelfile": "", "parameters": "", "template": "{{ .Prompt }}",
                             "details": {"family": "llama"}, "model_info": {"llama.context_length": 131072},
                             "capabilities": ["completion", "tools"]})  # fmt: skip

    async def _chat(self, request: Request) -> Response:
        recorded, _ = await self._record(request)
        body = recorded.body
        model = str(body.get("model", ""))
        if not self._known(model):
            return JSONResponse({"error": f"model '{model}' not found, try pulling it first"}, status_code=404)
        reply = await self._reply(_prompt(model, body))
        if reply.kind == "error":
            return JSONResponse({"error": reply.text}, status_code=reply.status)
        if reply.kind == "garbage":
            return Response("<html>this is not a chat response {{{", media_type="application/json")
        prompt_tokens, completion_tokens = usage_counts(body, reply)
        done = {"done": True, "done_reason": "stop", "total_duration": 1, "prompt_eval_count": prompt_tokens,
                "eval_count": completion_tokens}  # fmt: skip
        if not body.get("stream"):
            return JSONResponse({"model": model, "created_at": CREATED_AT, "message": _message(reply), **done})
        return StreamingResponse(_lines(model, reply, done, self.stream_chunk_chars), media_type="application/x-ndjson")

    async def _embed(self, request: Request) -> Response:
        recorded, _ = await self._record(request)
        body = recorded.body
        inputs = body.get("input")
        texts = [inputs] if isinstance(inputs, str) else list(inputs or [])
        vectors = [embed_text(str(t), self.embedding_dim) for t in texts]
        return JSONResponse({"model": body.get("model"), "embeddings": vectors, "prompt_eval_count": len(texts)})

    async def _embeddings_legacy(self, request: Request) -> Response:
        recorded, _ = await self._record(request)
        return JSONResponse({"embedding": embed_text(str(recorded.body.get("prompt", "")), self.embedding_dim)})


def _prompt(model: str, body: dict[str, Any]) -> Prompt:
    last = next(
        (str(m.get("content") or "") for m in reversed(body.get("messages") or []) if m.get("role") == "user"), ""
    )
    tools = {t["function"]["name"]: t["function"].get("parameters") or {} for t in body.get("tools") or []}
    return Prompt(model, unwrap_user_text(last), tools)


def _message(reply: Reply) -> dict[str, Any]:
    message: dict[str, Any] = {"role": "assistant", "content": reply.text or ""}
    if reply.reasoning:
        message["thinking"] = reply.reasoning
    if reply.tool_calls:
        message["tool_calls"] = [{"function": {"name": c.name, "arguments": c.arguments}} for c in reply.tool_calls]
    return message


async def _lines(model: str, reply: Reply, done: dict[str, Any], size: int):  # noqa: ANN202
    def line(message: dict[str, Any], final: dict[str, Any] | None = None) -> str:
        return json.dumps({"model": model, "created_at": CREATED_AT, "message": message, **(final or {"done": False})})

    for piece in split(reply.reasoning, size) if reply.reasoning else []:
        yield line({"role": "assistant", "content": "", "thinking": piece}) + "\n"
    for piece in split(reply.text, size) if reply.text else []:
        yield line({"role": "assistant", "content": piece}) + "\n"
    for call in reply.tool_calls:
        calls = [{"function": {"name": call.name, "arguments": call.arguments}}]
        yield line({"role": "assistant", "content": "", "tool_calls": calls}) + "\n"
    yield line({"role": "assistant", "content": ""}, done) + "\n"
