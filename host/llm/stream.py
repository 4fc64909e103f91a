"""A streamed completion: deltas as they arrive, assembled into one response at the end."""

from __future__ import annotations

from collections.abc import AsyncGenerator
from contextlib import AsyncExitStack
from dataclasses import dataclass, field
from typing import Any

import anyio

from host.llm import openai_http
from host.llm.arguments import _completion_kwargs
from host.llm.client import _get, _guarded, _litellm, _thinking_blocks, _usage, after_warm_up
from host.llm.errors import LlmResponseError
from host.llm.providers import ProviderSettings
from host.llm.types import (
    ContentDelta,
    LlmDelta,
    LlmRequest,
    LlmResponse,
    ReasoningDelta,
    StreamEnd,
    ToolCall,
    ToolCallDelta,
    Usage,
)


@dataclass
class _Assembly:
    content: list[str] = field(default_factory=list)
    reasoning: list[str] = field(default_factory=list)
    thinking: list[dict[str, Any]] = field(default_factory=list)  # signed reasoning blocks, as assembled
    calls: dict[int, list[str]] = field(default_factory=dict)  # index -> [id, name, arguments]
    moved: dict[int, int] = field(default_factory=dict)  # provider index -> index of its latest call
    usage: Usage = field(default_factory=Usage)
    finish_reason: str | None = None
    model: str | None = None

    def feed(self, chunk: Any) -> list[LlmDelta]:
        out: list[LlmDelta] = []
        if _get(chunk, "usage") is not None:
            self.usage = _usage(chunk)
        self.model = _get(chunk, "model") or self.model
        for choice in _get(chunk, "choices") or []:
            self.finish_reason = _get(choice, "finish_reason") or self.finish_reason
            delta = _get(choice, "delta")
            if delta is None:
                continue
            if text := _get(delta, "reasoning_content"):
                self.reasoning.append(text)
                out.append(ReasoningDelta(text))
            for block in _thinking_blocks(_get(delta, "thinking_blocks")):
                self._add_thinking(block)
            if text := _get(delta, "content"):
                self.content.append(text)
                out.append(ContentDelta(text))
            for call in _get(delta, "tool_calls") or []:
                given = _get(call, "index")
                index = len(self.calls) if given is None else self.moved.get(int(given), int(given))
                call_id = _get(call, "id")
                if given is not None and call_id and self.calls.get(index, [""])[0] not in ("", call_id):
                    # A new call under a used index: litellm numbers each of Ollama's whole calls 0.
                    self.moved[int(given)] = index = max(self.calls) + 1
                slot = self.calls.setdefault(index, ["", "", ""])
                function = _get(call, "function")
                name = _get(function, "name")
                fragment = _get(function, "arguments") or ""
                slot[0], slot[1], slot[2] = call_id or slot[0], name or slot[1], slot[2] + fragment
                out.append(ToolCallDelta(index, call_id, name, fragment))
        return out

    def _add_thinking(self, piece: dict[str, Any]) -> None:
        """A thinking block streams as text pieces, then its signature (litellm: one block per chunk)."""
        last = self.thinking[-1] if self.thinking else None
        if piece["type"] == "thinking" and last is not None and last["type"] == "thinking" and not last.get("signature"):
            last["thinking"] = last.get("thinking", "") + piece.get("thinking", "")
            if piece.get("signature"):
                last["signature"] = piece["signature"]
        else:
            self.thinking.append(dict(piece))

    def finish(self, model: str) -> LlmResponse:
        calls = []
        for index in sorted(self.calls):
            call_id, name, arguments = self.calls[index]
            if not name:
                raise LlmResponseError(f"{model}: streamed tool call #{index} has no function name")
            calls.append(ToolCall(call_id or f"call_{index}", name, arguments or "{}"))
        content, reasoning = "".join(self.content) or None, "".join(self.reasoning) or None
        if not (content or reasoning or calls):
            raise LlmResponseError(f"{model}: the provider's stream is empty (no content, reasoning, tool calls)")
        return LlmResponse(content, reasoning, calls, self.usage, self.finish_reason, self.model,
                           tuple(b for b in self.thinking if b["type"] == "redacted_thinking" or b.get("signature")))


async def stream(req: LlmRequest, settings: ProviderSettings) -> AsyncGenerator[LlmDelta, None]:
    """Stream a completion: deltas as they arrive, then one StreamEnd with the assembled response.
    OpenAI-compatible endpoints are read over HTTP (``openai_http``), every other one through litellm.

    timeout_s bounds the whole stream (from after litellm's one-time warm-up); the cancel scope never spans
    a `yield`.
    """
    lean = openai_http.lean(req)
    if not lean:
        await after_warm_up()
    model, deadline = req.config.model, anyio.current_time() + req.timeout_s
    assembly = _Assembly()
    opened = AsyncExitStack()  # what closes the provider's stream, also when the consumer stops early
    try:
        if lean:
            chunks = await _guarded(opened.enter_async_context(openai_http.chunks(req, settings)), model,
                                    req.timeout_s, deadline)
        else:
            kw = _completion_kwargs(req, settings) | {"stream": True, "stream_options": {"include_usage": True}}
            chunks = await _guarded(_litellm().acompletion(**kw), model, req.timeout_s, deadline)
            if (close := getattr(chunks, "aclose", None)) is not None:
                opened.push_async_callback(close)
        iterator = chunks.__aiter__()
        while True:
            try:
                chunk = await _guarded(iterator.__anext__(), model, req.timeout_s, deadline)
            except StopAsyncIteration:
                break
            for delta in assembly.feed(chunk):
                yield delta
    finally:
        with anyio.CancelScope(shield=True), anyio.move_on_after(5):
            await opened.aclose()
    yield StreamEnd(assembly.finish(model))
