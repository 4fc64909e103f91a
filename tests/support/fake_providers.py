"""What the loopback fakes of model providers share: a script of replies and a record of requests.

Each fake (`FakeAnthropic`, `FakeGemini`, `FakeOllama`, `FakeBedrock`; `FakeAzure` extends the scripted
OpenAI-compatible server instead) is a real HTTP server on 127.0.0.1 speaking one provider's wire format,
so litellm is exercised over HTTP exactly as against the real API. Scripting uses the vocabulary of
`tests.support.scripted_llm`, translated to the provider's format by the fake:

    with FakeAnthropic(api_key="sk-ant-test") as fake:
        fake.push_tool_call("send_message", {"message": "hi"})    # a tool_use block
        fake.push_text("plain answer", reasoning="thinking...")   # a thinking block, then a text block
        fake.push_error(529, "Overloaded")                        # the provider's JSON error body
        fake.for_model("claude-x").push_text("only for that model")
        fake.requests                                             # RecordedRequest per call, in order

OpenAI-compatible providers (Together, vLLM) are served by `RecordingScriptedLLM`: the scripted server,
also recording each call's path and headers in ``calls``; Groq by `FakeGroq`, which adds Groq's ``service_tier``.

With nothing scripted a request gets the default "echo" reply: a ``send_message`` call repeating the last
user message when that tool is offered (with ``inner_thoughts`` if the schema asks for it), else text.
"""

from __future__ import annotations

import asyncio
import json
import re
import threading
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from tests.support.loopback import LoopbackServer

# The scripted server's reply carriers and queue, shared so that scripts read the same everywhere.
from tests.support.scripted_llm import (
    Reply,
    ScriptedLLM,
    ScriptedToolCall,
    ScriptFront,
    ScriptQueue,
    _last_user_text,
    _Queue,
)

_WORD = re.compile(r"\w+", re.UNICODE)


@dataclass(frozen=True)
class RecordedRequest:
    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]  # lower-case names
    body: Any  # decoded JSON, None when there is no body


@dataclass(frozen=True)
class Prompt:
    """A provider request in neutral terms, enough to pick and shape a reply."""

    model: str
    last_user_text: str
    tools: dict[str, dict[str, Any]] = field(default_factory=dict)  # tool name -> arguments JSON schema


def unwrap_user_text(text: str) -> str:
    """agenthost sends user turns as Letta's JSON envelope; the echo repeats the message inside it."""
    return _last_user_text([{"role": "user", "content": text}])


def word_count(value: Any) -> int:
    return len(_WORD.findall(value if isinstance(value, str) else json.dumps(value)))


def split(text: str, size: int) -> list[str]:
    return [text[i : i + size] for i in range(0, len(text), size)] or [""]


def split_json(arguments: dict[str, Any]) -> list[str]:
    """A tool call's arguments as JSON in three fragments, like providers stream them."""
    text = json.dumps(arguments)
    return split(text, max(1, -(-len(text) // 3)))


class FakeProvider(ScriptFront, LoopbackServer):
    """Scripting and recording; subclasses add the provider's routes and wire format."""

    def __init__(self, *, api_key: str | None, stream_chunk_chars: int = 4) -> None:
        super().__init__()
        self.api_key = api_key
        self.stream_chunk_chars = stream_chunk_chars
        self._lock = threading.Condition()
        self._shared = _Queue()
        self._per_model: dict[str, _Queue] = {}
        self._requests: list[RecordedRequest] = []

    # ---- scripting (the scripted server's vocabulary) ----------------------------------------
    @property
    def shared(self) -> ScriptQueue:
        return ScriptQueue(self, self._shared)  # type: ignore[arg-type]

    def for_model(self, model: str) -> ScriptQueue:
        with self._lock:
            queue = self._per_model.setdefault(model, _Queue())
        return ScriptQueue(self, queue)  # type: ignore[arg-type]

    # ---- recordings ----------------------------------------------------------------------------
    @property
    def requests(self) -> list[RecordedRequest]:
        with self._lock:
            return list(self._requests)

    def requests_to(self, fragment: str) -> list[RecordedRequest]:
        """The recorded requests whose path contains `fragment` (e.g. ":streamGenerateContent")."""
        return [r for r in self.requests if fragment in r.path]

    async def _record(self, request: Request) -> tuple[RecordedRequest, int]:
        raw = await request.body()
        try:
            body = json.loads(raw) if raw else None
        except ValueError:
            body = raw.decode(errors="replace")
        recorded = RecordedRequest(request.method, request.url.path, dict(request.query_params),
                                   {k.lower(): v for k, v in request.headers.items()}, body)  # fmt: skip
        with self._lock:
            self._requests.append(recorded)
            seq = len(self._requests)  # unique ids across the server's life
            self._lock.notify_all()
        return recorded, seq

    # ---- replies -------------------------------------------------------------------------------
    async def _reply(self, prompt: Prompt) -> Reply:
        """The next scripted reply for the prompt's model (its own queue, else the shared one), or the echo."""
        with self._lock:
            queue = self._per_model.get(prompt.model, self._shared)
            delay, reply = 0.0, None
            while queue.items and reply is None:
                item = queue.items.popleft()
                if isinstance(item, float):
                    delay += item
                else:
                    reply = item
        if delay:
            await asyncio.sleep(delay)
        if reply is None or reply.kind == "default":
            return echo(prompt)
        return reply


def echo(prompt: Prompt) -> Reply:
    schema = prompt.tools.get("send_message")
    if schema is None:
        return Reply("text", text=prompt.last_user_text)
    args: dict[str, Any] = {"message": prompt.last_user_text}
    if "inner_thoughts" in (schema or {}).get("properties", {}):
        args = {"inner_thoughts": "Echoing the user.", **args}
    return Reply("tools", tool_calls=(ScriptedToolCall("send_message", args),))


def usage_counts(body: Any, reply: Reply) -> tuple[int, int]:
    """(prompt, completion) token counts: words, good enough to check that usage is carried through."""
    completion = word_count(reply.text or "") + word_count(reply.reasoning or "")
    completion += sum(word_count(c.arguments) + 3 for c in reply.tool_calls)
    return word_count(body) + 1, completion


class RecordingScriptedLLM(ScriptedLLM):
    """The scripted OpenAI-compatible server; ``calls`` also records each HTTP call's path, query and headers."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.calls: list[RecordedRequest] = []
        self.starlette = self.app  # subclasses add routes here
        self.app = _Recorder(self)


class _Recorder:
    """ASGI middleware (a class: uvicorn takes a bound method for an ASGI2 app)."""

    def __init__(self, owner: RecordingScriptedLLM) -> None:
        self.owner = owner

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "http":
            headers = {k.decode().lower(): v.decode() for k, v in scope["headers"]}
            query = dict(parse_qsl(scope["query_string"].decode()))
            with self.owner._lock:
                self.owner.calls.append(RecordedRequest(scope["method"], scope["path"], query, headers, None))
        await self.owner.starlette(scope, receive, send)


class FakeGroq(RecordingScriptedLLM):
    """Groq's OpenAI-compatible API: the scripted answers plus the ``service_tier`` Groq always sends
    (litellm's ``groq/`` route fails on a completion without it)."""

    async def _chat(self, request: Request) -> Response:
        response = await super()._chat(request)
        if isinstance(response, JSONResponse) and response.status_code == 200:
            body = json.loads(bytes(response.body))
            if isinstance(body, dict) and "choices" in body:
                return JSONResponse({**body, "service_tier": "on_demand"})
        return response
