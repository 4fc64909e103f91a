"""A scripted OpenAI-compatible LLM server for tests and benchmarks.

`ScriptedLLM` is a real HTTP server (uvicorn on 127.0.0.1, background thread), so it serves
litellm in the test process as well as an agenthost server launched as a subprocess.

    with ScriptedLLM() as llm:                  # base_url: http://127.0.0.1:<port>/v1
        llm.push_tool_call("send_message", {"message": "hi"})
        llm.push_text("plain answer")
        llm.push_error(500, "upstream exploded")
        llm.push_garbage()                      # 200 with a body that is not a completion
        llm.push_delay(5)                       # the next response arrives 5 s late
        llm.for_model("agent-a").push_text("only for model agent-a")
        ...
        llm.requests                            # every chat-completion request body, in order

Routes: `GET /v1/models` (and Ollama's `GET /api/tags`), `POST /v1/chat/completions` (JSON, or
`stream: true` SSE with content and tool-call argument deltas split over several chunks, a usage
chunk, `[DONE]`), `POST /v1/embeddings` (deterministic hashed bag-of-words vectors, L2-normalised,
so texts sharing words are near), and `POST /_scripted/push` (scripting from another process).

Each chat request takes its reply at arrival: pending delays plus the next scripted reply, from the
queue of its model (see `for_model`) or else the shared queue. An empty queue falls back to the
default behaviour: "echo" answers with a `send_message` tool call echoing the last user message when that
tool is offered (plain text otherwise); with `follow_tool_choice=True` it answers a named `tool_choice` with
a call to that function (arguments of its schema's shape, strings echoing the last user message), as OpenAI
does; "text" always echoes as plain text.

CLI for benches: `python -m tests.support.scripted_llm --port 8399` (prints the base URL).
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import hashlib
import json
import logging
import math
import re
import struct
import threading
from collections import deque
from dataclasses import dataclass, field, replace
from typing import Any, Literal

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

from tests.support.loopback import LoopbackServer

logger = logging.getLogger(__name__)

DefaultMode = Literal["echo", "text"]
_WORD = re.compile(r"\w+", re.UNICODE)


@dataclass(frozen=True)
class ScriptedToolCall:
    name: str
    arguments: dict[str, Any]


@dataclass(frozen=True)
class Reply:
    """One scripted chat-completion outcome (kind: "text" | "tools" | "error" | "garbage")."""

    kind: str
    text: str | None = None
    reasoning: str | None = None
    tool_calls: tuple[ScriptedToolCall, ...] = ()
    status: int = 200
    delay_s: float = 0.0


@dataclass
class _Queue:
    items: deque[Reply | float] = field(default_factory=deque)


class ScriptQueue:
    """Push-side view of one queue (the shared one, or one model's)."""

    def __init__(self, owner: ScriptedLLM, queue: _Queue) -> None:
        self._owner = owner
        self._queue = queue

    def _push(self, item: Reply | float) -> ScriptQueue:
        with self._owner._lock:
            self._queue.items.append(item)
        return self

    def push_text(self, text: str, *, reasoning: str | None = None) -> ScriptQueue:
        return self._push(Reply("text", text=text, reasoning=reasoning))

    def push_tool_call(self, name: str, args: dict[str, Any], content: str | None = None, *,
                       reasoning: str | None = None) -> ScriptQueue:
        return self.push_tool_calls([(name, args)], content=content, reasoning=reasoning)

    def push_tool_calls(self, calls: list[tuple[str, dict[str, Any]]], content: str | None = None, *,
                        reasoning: str | None = None) -> ScriptQueue:
        scripted = tuple(ScriptedToolCall(name, dict(args)) for name, args in calls)
        return self._push(Reply("tools", text=content, reasoning=reasoning, tool_calls=scripted))

    def push_error(self, status: int, message: str) -> ScriptQueue:
        return self._push(Reply("error", text=message, status=status))

    def push_garbage(self) -> ScriptQueue:
        return self._push(Reply("garbage"))

    def push_delay(self, seconds: float) -> ScriptQueue:
        """Delay the next reply taken from this queue (other requests are not blocked)."""
        return self._push(float(seconds))

    def pending(self) -> int:
        with self._owner._lock:
            return sum(1 for item in self._queue.items if isinstance(item, Reply))


class ScriptFront:
    """``push_*`` on the shared queue, for servers scripted with this vocabulary (``shared`` is theirs)."""

    shared: ScriptQueue

    def push_text(self, text: str, *, reasoning: str | None = None) -> ScriptQueue:
        return self.shared.push_text(text, reasoning=reasoning)

    def push_tool_call(self, name: str, args: dict[str, Any], content: str | None = None, *,
                       reasoning: str | None = None) -> ScriptQueue:
        return self.shared.push_tool_call(name, args, content, reasoning=reasoning)

    def push_tool_calls(self, calls: list[tuple[str, dict[str, Any]]], content: str | None = None, *,
                        reasoning: str | None = None) -> ScriptQueue:
        return self.shared.push_tool_calls(calls, content, reasoning=reasoning)

    def push_error(self, status: int, message: str) -> ScriptQueue:
        return self.shared.push_error(status, message)

    def push_garbage(self) -> ScriptQueue:
        return self.shared.push_garbage()


class ScriptedLLM(ScriptFront, LoopbackServer):
    """OpenAI-compatible scripted server; use as a context manager or call start()/stop()."""

    def __init__(
        self,
        *,
        port: int = 0,
        models: list[str] | None = None,
        embedding_dim: int = 1536,
        default: DefaultMode = "echo",
        stream_chunk_chars: int = 4,
        required_key: str | None = None,
        follow_tool_choice: bool = False,
    ) -> None:
        super().__init__()
        self.required_key = required_key  # when set, every route answers 401 to any other bearer key
        # "echo" with a named tool_choice: call that function, as OpenAI does (off: the echo as usual; the
        # tests script what the loop's forced calls get)
        self.follow_tool_choice = follow_tool_choice
        self._port = port
        self._backlog = 128
        self._models = list(models or ["gpt-4o-mini", "fake-gpt", "text-embedding-3-small"])
        self.embedding_dim = embedding_dim
        self.default = default
        self.stream_chunk_chars = stream_chunk_chars
        self._lock = threading.Condition()
        self._shared = _Queue()
        self._per_model: dict[str, _Queue] = {}
        self._requests: list[dict[str, Any]] = []
        self._embedding_requests: list[dict[str, Any]] = []
        self.model_list_calls = 0  # GET /v1/models and /api/tags hits
        self._stopping: asyncio.Event | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self.app = Starlette(
            routes=[
                Route(p + "/models", self._list_models, methods=["GET"]) for p in ("/v1", "")
            ]
            + [Route(p + "/chat/completions", self._chat, methods=["POST"]) for p in ("/v1", "")]
            + [Route(p + "/embeddings", self._embeddings, methods=["POST"]) for p in ("/v1", "")]
            + [Route("/api/tags", self._ollama_tags, methods=["GET"])]
            + [Route("/_scripted/push", self._control_push, methods=["POST"])]
        )

    # ---- lifecycle -------------------------------------------------------------------------
    def _before_stop(self) -> None:
        loop, stopping = self._loop, self._stopping
        if loop is not None and stopping is not None:
            loop.call_soon_threadsafe(stopping.set)  # end pending delays at once

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    # ---- scripting -------------------------------------------------------------------------
    @property
    def shared(self) -> ScriptQueue:
        return ScriptQueue(self, self._shared)

    def for_model(self, model: str) -> ScriptQueue:
        """The queue used exclusively by requests for `model` (also listed by /v1/models)."""
        with self._lock:
            queue = self._per_model.setdefault(model, _Queue())
            if model not in self._models:
                self._models.append(model)
        return ScriptQueue(self, queue)

    def push_delay(self, seconds: float) -> ScriptQueue:
        return self.shared.push_delay(seconds)

    # ---- recordings ------------------------------------------------------------------------
    @property
    def requests(self) -> list[dict[str, Any]]:
        with self._lock:
            return list(self._requests)

    @property
    def embedding_requests(self) -> list[dict[str, Any]]:
        with self._lock:
            return list(self._embedding_requests)

    def requests_for(self, model: str) -> list[dict[str, Any]]:
        return [r for r in self.requests if r.get("model") == model]

    def wait_for_requests(self, count: int, timeout: float = 10.0) -> list[dict[str, Any]]:
        """Block until at least `count` chat requests arrived (raises TimeoutError)."""
        with self._lock:
            if not self._lock.wait_for(lambda: len(self._requests) >= count, timeout=timeout):
                raise TimeoutError(f"expected {count} chat requests, got {len(self._requests)}")
            return list(self._requests)

    # ---- handlers --------------------------------------------------------------------------
    def _take(self, model: str) -> Reply | None:
        with self._lock:
            queue = self._per_model.get(model, self._shared)
            delay = 0.0
            while queue.items:
                item = queue.items.popleft()
                if isinstance(item, float):
                    delay += item
                    continue
                return replace(item, delay_s=delay)
            return Reply("default", delay_s=delay) if delay else None

    async def _wait(self, seconds: float) -> None:
        if self._stopping is None:
            self._loop, self._stopping = asyncio.get_running_loop(), asyncio.Event()
        try:
            await asyncio.wait_for(self._stopping.wait(), timeout=seconds)
        except TimeoutError:
            pass

    def _refused(self, request: Request) -> Response | None:
        if self.required_key is None or request.headers.get("authorization") == f"Bearer {self.required_key}":
            return None
        error = {"message": "Incorrect API key provided", "type": "invalid_request_error", "code": "invalid_api_key"}
        return JSONResponse({"error": error}, status_code=401)

    async def _list_models(self, request: Request) -> Response:
        if (refused := self._refused(request)) is not None:
            return refused
        with self._lock:
            self.model_list_calls += 1
            names = list(self._models)
        data = [{"id": n, "object": "model", "created": 0, "owned_by": "scripted"} for n in names]
        return JSONResponse({"object": "list", "data": data})

    async def _ollama_tags(self, request: Request) -> Response:
        """Ollama's model listing, so provider listings can be tested against this server too."""
        with self._lock:
            self.model_list_calls += 1
            names = list(self._models)
        return JSONResponse({"models": [{"name": n, "model": n, "size": 0, "details": {}} for n in names]})

    async def _chat(self, request: Request) -> Response:
        if (refused := self._refused(request)) is not None:
            return refused
        body = await request.json()
        with self._lock:
            self._requests.append(body)
            seq = len(self._requests)  # unique tool-call ids across the server's life
            self._lock.notify_all()
        model = str(body.get("model", ""))
        reply = self._take(model)
        if reply is not None and reply.delay_s:
            await self._wait(reply.delay_s)
        if reply is None or reply.kind == "default":
            reply = self._default_reply(body)
        if reply.kind == "error":
            error = {"message": reply.text, "type": "scripted_error", "code": str(reply.status)}
            return JSONResponse({"error": error}, status_code=reply.status)
        if reply.kind == "garbage":
            return Response("<html>this is not a completion {{{", media_type="application/json")
        usage = _usage(body, reply)
        if body.get("stream"):
            include_usage = bool((body.get("stream_options") or {}).get("include_usage"))
            chunks = _stream_chunks(model, reply, usage if include_usage else None, self.stream_chunk_chars, seq)
            return StreamingResponse(chunks, media_type="text/event-stream")
        return JSONResponse(_completion(model, reply, usage, seq))

    def _default_reply(self, body: dict[str, Any]) -> Reply:
        text = _last_user_text(body.get("messages") or [])
        forced = _forced_function(body) if self.follow_tool_choice else None
        if self.default == "echo" and forced is not None:  # as OpenAI: a named tool_choice is always called
            return Reply("tools", tool_calls=(ScriptedToolCall(forced["name"], _schema_args(forced, text)),))
        send_message = next(
            (t["function"] for t in body.get("tools") or [] if t.get("function", {}).get("name") == "send_message"),
            None,
        )
        if self.default == "echo" and send_message is not None:
            args: dict[str, Any] = {"message": text}
            if "inner_thoughts" in (send_message.get("parameters") or {}).get("properties", {}):
                args = {"inner_thoughts": "Echoing the user.", **args}
            return Reply("tools", tool_calls=(ScriptedToolCall("send_message", args),))
        return Reply("text", text=text)

    async def _embeddings(self, request: Request) -> Response:
        if (refused := self._refused(request)) is not None:
            return refused
        body = await request.json()
        with self._lock:
            self._embedding_requests.append(body)
        inputs = body.get("input")
        texts = [inputs] if isinstance(inputs, str) else list(inputs or [])
        dim = int(body.get("dimensions") or self.embedding_dim)
        as_base64 = body.get("encoding_format") == "base64"
        data = []
        for i, text in enumerate(texts):
            vector = embed_text(str(text), dim)
            encoded: Any = base64.b64encode(struct.pack(f"<{dim}f", *vector)).decode() if as_base64 else vector
            data.append({"object": "embedding", "index": i, "embedding": encoded})
        tokens = sum(len(_WORD.findall(str(t))) for t in texts)
        usage = {"prompt_tokens": tokens, "total_tokens": tokens}
        return JSONResponse({"object": "list", "model": body.get("model"), "data": data, "usage": usage})

    async def _control_push(self, request: Request) -> Response:
        """`{"model"?: str, "kind": "text"|"tool_call"|"error"|"garbage"|"delay", ...}` for CLI use."""
        item = await request.json()
        queue = self.for_model(item["model"]) if item.get("model") else self.shared
        kind = item.get("kind")
        if kind == "text":
            queue.push_text(item["text"])
        elif kind == "tool_call":
            queue.push_tool_call(item["name"], item.get("arguments", {}), item.get("content"))
        elif kind == "error":
            queue.push_error(int(item["status"]), item["message"])
        elif kind == "garbage":
            queue.push_garbage()
        elif kind == "delay":
            queue.push_delay(float(item["seconds"]))
        else:
            return JSONResponse({"error": {"message": f"unknown kind {kind!r}"}}, status_code=400)
        return JSONResponse({"ok": True})


def embed_text(text: str, dim: int) -> list[float]:
    """Hashed bag of words, L2-normalised: texts that share words have a high cosine similarity."""
    vector = [0.0] * dim
    words = [w.lower() for w in _WORD.findall(text)] or ["<empty>"]
    for word in words:
        digest = hashlib.blake2b(word.encode(), digest_size=8).digest()
        index = int.from_bytes(digest[:4], "little") % dim
        vector[index] += 1.0 if digest[4] & 1 else -1.0
    norm = math.sqrt(sum(v * v for v in vector)) or 1.0
    return [v / norm for v in vector]


def _last_user_text(messages: list[dict[str, Any]]) -> str:
    for message in reversed(messages):
        if message.get("role") != "user":
            continue
        content = message.get("content")
        if isinstance(content, list):  # content parts
            content = " ".join(str(p.get("text", "")) for p in content if isinstance(p, dict))
        text = str(content or "")
        try:
            parsed = json.loads(text)
        except ValueError:
            return text
        return str(parsed["message"]) if isinstance(parsed, dict) and "message" in parsed else text
    return ""


def _usage(body: dict[str, Any], reply: Reply) -> dict[str, int]:
    prompt = sum(len(_WORD.findall(json.dumps(m.get("content")))) + 4 for m in body.get("messages") or [])
    completion = len(_WORD.findall(reply.text or "")) + sum(
        len(_WORD.findall(json.dumps(c.arguments))) + 3 for c in reply.tool_calls
    )
    return {"prompt_tokens": prompt, "completion_tokens": completion, "total_tokens": prompt + completion}


def _completion(model: str, reply: Reply, usage: dict[str, int], seq: int) -> dict[str, Any]:
    message: dict[str, Any] = {"role": "assistant", "content": reply.text}
    if reply.reasoning is not None:
        message["reasoning_content"] = reply.reasoning
    if reply.tool_calls:
        message["tool_calls"] = [
            {
                "id": f"call_{seq}_{i}",
                "type": "function",
                "function": {"name": c.name, "arguments": json.dumps(c.arguments)},
            }
            for i, c in enumerate(reply.tool_calls)
        ]
    finish = "tool_calls" if reply.tool_calls else "stop"
    return {
        "id": "chatcmpl-scripted",
        "object": "chat.completion",
        "created": 0,
        "model": model,
        "choices": [{"index": 0, "message": message, "finish_reason": finish}],
        "usage": usage,
    }


def _split(text: str, size: int) -> list[str]:
    return [text[i : i + size] for i in range(0, len(text), size)] or [""]


async def _stream_chunks(model: str, reply: Reply, usage: dict[str, int] | None, size: int, seq: int):  # noqa: ANN202
    def frame(delta: dict[str, Any], finish: str | None = None) -> str:
        chunk = {
            "id": "chatcmpl-scripted",
            "object": "chat.completion.chunk",
            "created": 0,
            "model": model,
            "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
        }
        return f"data: {json.dumps(chunk)}\n\n"

    yield frame({"role": "assistant", "content": ""})
    for piece in _split(reply.reasoning, size) if reply.reasoning else []:
        yield frame({"reasoning_content": piece})
    for piece in _split(reply.text, size) if reply.text else []:
        yield frame({"content": piece})
    for i, call in enumerate(reply.tool_calls):
        head = {"index": i, "id": f"call_{seq}_{i}", "type": "function"}
        yield frame({"tool_calls": [{**head, "function": {"name": call.name, "arguments": ""}}]})
        arguments = json.dumps(call.arguments)
        for piece in _split(arguments, max(1, math.ceil(len(arguments) / 3))):
            yield frame({"tool_calls": [{"index": i, "function": {"arguments": piece}}]})
    yield frame({}, "tool_calls" if reply.tool_calls else "stop")
    if usage is not None:
        chunk = {"id": "chatcmpl-scripted", "object": "chat.completion.chunk", "created": 0, "model": model}
        yield f"data: {json.dumps({**chunk, 'choices': [], 'usage': usage})}\n\n"
    yield "data: [DONE]\n\n"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Scripted OpenAI-compatible LLM server")
    parser.add_argument("--port", type=int, default=8399)
    parser.add_argument("--embedding-dim", type=int, default=1536)
    parser.add_argument("--default", choices=["echo", "text"], default="echo")
    parser.add_argument("--model", action="append", dest="models", help="model to list (repeatable)")
    args = parser.parse_args(argv)
    llm = ScriptedLLM(port=args.port, models=args.models, embedding_dim=args.embedding_dim, default=args.default)
    llm.start()
    print(llm.base_url, flush=True)
    try:
        assert llm._thread is not None
        llm._thread.join()
    except KeyboardInterrupt:
        pass
    finally:
        llm.stop()


if __name__ == "__main__":
    main()


def _forced_function(body: dict[str, Any]) -> dict[str, Any] | None:
    """The offered function a named ``tool_choice`` forces, if any (send_message keeps the echo)."""
    choice = body.get("tool_choice")
    if not isinstance(choice, dict) or choice.get("type") != "function":
        return None
    name = (choice.get("function") or {}).get("name")
    if name == "send_message":
        return None
    return next((t["function"] for t in body.get("tools") or [] if t.get("function", {}).get("name") == name), None)


def _schema_args(function: dict[str, Any], text: str) -> dict[str, Any]:
    """Arguments of the schema's shape for ``function``'s required parameters: strings echo ``text``."""
    params = function.get("parameters") or {}
    props = params.get("properties") or {}
    filler: dict[str, Any] = {"string": text, "integer": 0, "number": 0, "boolean": False, "array": [], "object": {}}
    out: dict[str, Any] = {}
    for name in params.get("required") or list(props):
        spec = props.get(name) or {}
        if spec.get("enum"):
            out[name] = spec["enum"][0]
        else:
            kind = spec.get("type")
            out[name] = filler.get(kind[0] if isinstance(kind, list) else kind or "string", text)
    return out
