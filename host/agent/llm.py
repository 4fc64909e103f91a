"""Calls to language and embedding models: the only module that imports litellm (lazily).

    response = await complete(LlmRequest(config, messages, tools, tool_choice="required"), settings)
    async for delta in stream(request, settings): ...      # Content/Reasoning/ToolCall deltas, StreamEnd
    vectors = await embed(embedding_config, texts, settings)

`import litellm` costs seconds, so it happens on the first call, never at import. Credentials come
from `ProviderSettings` and are passed explicitly; this module never reads os.environ (it only sets
``LITELLM_LOCAL_MODEL_COST_MAP`` before the import so litellm does not fetch its cost map). Every call
runs under `anyio.fail_after`, with litellm and the OpenAI SDK told not to retry (retries would hide
failures and multiply timeouts: the agent loop decides what to retry).

Errors (the provider's own message is kept in `LlmProviderError.provider_message`)::

    LlmError
    ├── LlmConfigError            endpoint type this module cannot call
    ├── LlmTimeoutError           no complete answer within timeout_s
    ├── LlmProviderError          provider answered with an error (status_code, provider_message)
    │   ├── LlmConnectionError    could not reach the provider (status_code None)
    │   └── LlmContextWindowError prompt larger than the model's context window
    └── LlmResponseError          an answer that is not a completion (malformed JSON, no choices, empty)
"""

from __future__ import annotations

import json
import logging
import os
import re
from collections.abc import AsyncIterator, Awaitable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache
from typing import Any, Literal, TypeVar

import anyio

from host.providers import GEMINI_OFFICIAL_BASE, EmbeddingConfig, LLMConfig, ProviderSettings

logger = logging.getLogger(__name__)
T = TypeVar("T")


class LlmError(Exception):
    """Base class of model-call failures."""


class LlmConfigError(LlmError):
    pass


class LlmTimeoutError(LlmError):
    def __init__(self, model: str, timeout_s: float) -> None:
        self.model, self.timeout_s = model, timeout_s
        super().__init__(f"{model}: no answer within {timeout_s:g} s (raise timeout_s or check the provider)")


class LlmProviderError(LlmError):
    def __init__(self, model: str, status_code: int | None, provider_message: str) -> None:
        self.model, self.status_code, self.provider_message = model, status_code, provider_message
        status = f"HTTP {status_code}" if status_code is not None else "an error"
        super().__init__(f"{model}: provider answered with {status}: {provider_message}")


class LlmConnectionError(LlmProviderError):
    pass


class LlmContextWindowError(LlmProviderError):
    pass


class LlmResponseError(LlmError):
    pass


# ---- carriers ------------------------------------------------------------------------------
@dataclass(frozen=True)
class ToolCall:
    id: str
    name: str
    arguments_json: str


@dataclass(frozen=True)
class ChatMessage:
    role: Literal["system", "user", "assistant", "tool"]
    content: str | None = None
    tool_calls: tuple[ToolCall, ...] = ()
    tool_call_id: str | None = None
    name: str | None = None
    # An assistant message's signed reasoning, as the provider returned it (Anthropic / Bedrock Claude:
    # {"type": "thinking", "thinking", "signature"} or {"type": "redacted_thinking", "data"}). Claude
    # wants it back before the tool calls it led to.
    thinking_blocks: tuple[Mapping[str, Any], ...] = ()


@dataclass(frozen=True)
class ToolSpec:
    name: str
    description: str
    parameters: Mapping[str, Any]  # JSON schema of the arguments object


ToolChoice = Literal["auto", "required", "none"] | Mapping[str, str] | None  # {"name": tool} forces one


@dataclass(frozen=True)
class LlmRequest:
    config: LLMConfig
    messages: Sequence[ChatMessage]
    tools: Sequence[ToolSpec] = ()
    tool_choice: ToolChoice = None
    temperature: float | None = None  # None: config.temperature
    max_tokens: int | None = None  # None: config.max_tokens
    timeout_s: float = 120.0


@dataclass(frozen=True)
class Usage:
    prompt_tokens: int = 0
    completion_tokens: int = 0
    total_tokens: int = 0


@dataclass(frozen=True)
class LlmResponse:
    content: str | None
    reasoning: str | None
    tool_calls: list[ToolCall]
    usage: Usage
    finish_reason: str | None
    raw_model: str | None
    thinking_blocks: tuple[Mapping[str, Any], ...] = ()  # see ChatMessage.thinking_blocks


@dataclass(frozen=True)
class ContentDelta:
    text: str
    kind: Literal["content"] = "content"


@dataclass(frozen=True)
class ReasoningDelta:
    text: str
    kind: Literal["reasoning"] = "reasoning"


@dataclass(frozen=True)
class ToolCallDelta:
    index: int
    id: str | None
    name: str | None
    arguments_fragment: str
    kind: Literal["tool_call"] = "tool_call"


@dataclass(frozen=True)
class StreamEnd:
    response: LlmResponse
    kind: Literal["end"] = "end"


LlmDelta = ContentDelta | ReasoningDelta | ToolCallDelta | StreamEnd


# ---- litellm plumbing ----------------------------------------------------------------------
@cache
def _litellm() -> Any:
    os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
    # After every call litellm copies the request's messages with long base64 strings shortened, for its
    # logging callbacks. We register none, so the copy is waste: it cost more event-loop time than the
    # call itself once an agent had a few hundred messages in context (measured). 0 turns it off.
    os.environ.setdefault("MAX_BASE64_LENGTH_FOR_LOGGING", "0")
    import litellm

    litellm.drop_params = True
    litellm.suppress_debug_info = True
    litellm.set_verbose = False
    litellm.telemetry = False
    # Count tokens with the bundled tiktoken encoding: for Llama-family names (Groq, Together, ...) litellm
    # would otherwise fetch a Hugging Face tokenizer, a blocking download inside the event loop (offline:
    # ~20 s of retries per streamed call).
    litellm.disable_hf_tokenizer_download = True
    for name in ("LiteLLM", "LiteLLM Router", "LiteLLM Proxy", "litellm"):
        logging.getLogger(name).setLevel(logging.WARNING)
    return litellm


_OPENAI_COMPATIBLE = {"openai", "lmstudio", "lmstudio-chatcompletions", "llamacpp", "koboldcpp", "webui"}
_NO_KEY = "no-key"  # the OpenAI SDK insists on a key; keyless local servers ignore it
_API_VERSION = re.compile(r"/v\d+(alpha|beta)?\d*$")


def _model_kwargs(endpoint_type: str, model: str, endpoint: str | None, s: ProviderSettings) -> dict[str, Any]:
    """litellm model string and credentials for one endpoint type."""
    if endpoint_type in _OPENAI_COMPATIBLE:
        # litellm's generic OpenAI-compatible HTTP route (its "hosted_vllm" provider), not the openai SDK:
        # the SDK re-validates every message of the request on each call, which cost ~100 ms per call
        # with a few hundred messages of history (measured); the wire request is the same.
        key = s.openai_api_key or _NO_KEY
        return {"model": f"hosted_vllm/{model}", "api_base": endpoint or s.openai_base, "api_key": key}
    if endpoint_type == "vllm":
        return {"model": f"hosted_vllm/{model}", "api_base": endpoint or s.vllm_api_base, "api_key": _NO_KEY}
    if endpoint_type == "ollama":
        base = (endpoint or s.ollama_base_url or "").rstrip("/").removesuffix("/v1")
        return {"model": f"ollama_chat/{model}", "api_base": base}
    if endpoint_type == "azure":
        base = endpoint or s.azure_api_base
        version = s.azure_api_version
        return {"model": f"azure/{model}", "api_base": base, "api_key": s.azure_api_key, "api_version": version}
    if endpoint_type == "bedrock":
        kw: dict[str, Any] = {
            "model": f"bedrock/{model}",
            "aws_access_key_id": s.aws_access_key_id,
            "aws_secret_access_key": s.aws_secret_access_key,
            "aws_region_name": s.aws_region,
        }
        if runtime := endpoint or s.bedrock_endpoint:
            kw["aws_bedrock_runtime_endpoint"] = runtime
        return kw
    if endpoint_type == "anthropic":
        # litellm appends /v1/messages to the base; Letta's endpoint already ends with /v1.
        base = (endpoint or s.anthropic_base).rstrip("/").removesuffix("/v1")
        return {"model": f"anthropic/{model}", "api_base": base, "api_key": s.anthropic_api_key}
    if endpoint_type == "google_ai":
        kw = {"model": f"gemini/{model}", "api_key": s.gemini_api_key}
        base = (endpoint or s.gemini_base).rstrip("/")
        if base != GEMINI_OFFICIAL_BASE:  # litellm builds <base>/models/<model>:<method>: the version goes in the base
            kw["api_base"] = base if _API_VERSION.search(base) else f"{base}/v1beta"
        return kw
    keyed = {"groq": ("groq", s.groq_api_key), "together": ("together_ai", s.together_api_key)}
    if endpoint_type in keyed:
        prefix, key = keyed[endpoint_type]
        kw = {"model": f"{prefix}/{model}", "api_key": key}
        if endpoint:
            kw["api_base"] = endpoint
        return kw
    supported = sorted([*_OPENAI_COMPATIBLE, "vllm", "ollama", "azure", "bedrock", "anthropic", "google_ai", *keyed])
    raise LlmConfigError(f"endpoint type {endpoint_type!r} of {model!r} is not supported; use one of {supported}")


def _message_dict(m: ChatMessage) -> dict[str, Any]:
    out: dict[str, Any] = {"role": m.role, "content": m.content}
    if m.tool_calls:
        out["tool_calls"] = [
            {"id": c.id, "type": "function", "function": {"name": c.name, "arguments": c.arguments_json}}
            for c in m.tool_calls
        ]
    if m.tool_call_id is not None:
        out["tool_call_id"] = m.tool_call_id
    if m.name is not None:
        out["name"] = m.name
    if m.thinking_blocks:
        out["thinking_blocks"] = [dict(b) for b in m.thinking_blocks]
    return out


def _completion_kwargs(req: LlmRequest, s: ProviderSettings) -> dict[str, Any]:
    c = req.config
    kw = _model_kwargs(c.model_endpoint_type, c.model, c.model_endpoint, s)
    kw["messages"] = [_message_dict(m) for m in req.messages]
    kw.update(timeout=req.timeout_s, num_retries=0, max_retries=0)  # no retries: failures must show
    kw["temperature"] = c.temperature if req.temperature is None else req.temperature
    max_tokens = c.max_tokens if req.max_tokens is None else req.max_tokens
    if max_tokens:
        kw["max_tokens"] = max_tokens
    if c.frequency_penalty is not None:
        kw["frequency_penalty"] = c.frequency_penalty
    if req.tools:
        kw["tools"] = [
            {
                "type": "function",
                "function": {"name": t.name, "description": t.description, "parameters": dict(t.parameters)},
            }
            for t in req.tools
        ]
        if isinstance(req.tool_choice, Mapping):
            kw["tool_choice"] = {"type": "function", "function": {"name": req.tool_choice["name"]}}
        elif req.tool_choice is not None:
            kw["tool_choice"] = req.tool_choice
    _reasoning(c, req.messages, kw)
    return kw


def _reasoning(c: LLMConfig, messages: Sequence[ChatMessage], kw: dict[str, Any]) -> None:
    """Map enable_reasoner / max_reasoning_tokens / reasoning_effort onto each provider's own knob."""
    kind = c.model_endpoint_type
    if kind == "anthropic" or (kind == "bedrock" and "claude" in c.model):
        # Extended thinking, only when asked for (reasoning_effort is OpenAI's knob: litellm would turn it
        # into thinking with a temperature Anthropic refuses). Anthropic wants a budget of at least 1024
        # tokens below max_tokens, temperature 1, and no forced tool choice. It also refuses a request whose
        # last assistant tool call comes without its signed thinking block (kept with each message, sent
        # back as thinking_blocks): a history from before thinking was on has none, and that step runs
        # without thinking (what litellm does with modify_params).
        if not c.enable_reasoner or _unsigned_tool_call_turn(messages):
            return
        budget = max(c.max_reasoning_tokens, 1024)
        kw["thinking"] = {"type": "enabled", "budget_tokens": budget}
        kw["temperature"] = 1.0
        if kw.get("max_tokens", 0) <= budget:
            kw["max_tokens"] = budget + (c.max_tokens or 4096)
        if kw.get("tool_choice") not in (None, "auto", "none"):
            kw["tool_choice"] = "auto"
    elif kind == "google_ai":
        if c.enable_reasoner:  # litellm: generationConfig.thinkingConfig {thinkingBudget, includeThoughts}
            kw["thinking"] = {"type": "enabled", "budget_tokens": max(c.max_reasoning_tokens, 1024)}
        elif c.reasoning_effort:
            kw["reasoning_effort"] = c.reasoning_effort
    elif c.enable_reasoner or c.reasoning_effort:  # OpenAI-style; Ollama's "think"
        kw["reasoning_effort"] = c.reasoning_effort or "medium"


def _unsigned_tool_call_turn(messages: Sequence[ChatMessage]) -> bool:
    """Whether the last assistant message of the request carries tool calls without signed reasoning."""
    for m in reversed(messages):
        if m.role == "assistant":
            return bool(m.tool_calls) and not m.thinking_blocks
    return False


def _causes(exc: BaseException) -> list[BaseException]:
    chain: list[BaseException] = []
    current: BaseException | None = exc
    while current is not None and current not in chain:
        chain.append(current)
        current = current.__cause__ or current.__context__
    return chain


_LITELLM_PREFIX = re.compile(r"^((litellm\.)?\w+Error:\s*)*(\w+Exception(\s+\w+Error)?\s*-\s*)?")


def _provider_message(exc: BaseException) -> str:
    body = getattr(exc, "body", None)
    if isinstance(body, Mapping):
        inner = body.get("error", body)
        message = inner.get("message") if isinstance(inner, Mapping) else inner
        if isinstance(message, str) and message:
            return message
    text = _LITELLM_PREFIX.sub("", str(getattr(exc, "message", None) or exc)).strip()
    # The generic HTTP route reports the provider's raw JSON error body (sometimes as a bytes repr,
    # b'{...}'): show its message.
    start = text.find("{")
    if start != -1:
        try:
            parsed, _ = json.JSONDecoder().raw_decode(text, start)
        except ValueError:
            return text
        inner = parsed.get("error", parsed) if isinstance(parsed, dict) else None
        message = inner.get("message") if isinstance(inner, dict) else inner
        if isinstance(message, str) and message:
            return message
    return text


def _map_error(exc: Exception, model: str, timeout_s: float) -> LlmError | None:
    """The LlmError for a litellm/SDK/transport failure; None for anything else (a bug: re-raise)."""
    import httpx
    import openai

    litellm = _litellm()
    chain = _causes(exc)
    timeouts = (litellm.Timeout, TimeoutError, httpx.TimeoutException)
    if any(isinstance(e, timeouts) for e in chain):
        return LlmTimeoutError(model, timeout_s)
    if not isinstance(exc, (openai.APIError, httpx.HTTPError, json.JSONDecodeError)):
        return None
    message = _provider_message(exc)
    if any(isinstance(e, json.JSONDecodeError) for e in chain):
        return LlmResponseError(f"{model}: the provider's answer is not valid JSON ({message})")
    if any(isinstance(e, (ConnectionError, httpx.ConnectError, openai.APIConnectionError)) for e in chain):
        return LlmConnectionError(model, None, message)
    status = getattr(exc, "status_code", None)
    if isinstance(exc, litellm.ContextWindowExceededError):
        return LlmContextWindowError(model, status, message)
    return LlmProviderError(model, status if isinstance(status, int) else None, message)


async def _guarded(call: Awaitable[T], model: str, timeout_s: float, deadline: float) -> T:
    """Await one litellm call before `deadline`, translating failures into LlmError."""
    try:
        with anyio.fail_after(max(0.0, deadline - anyio.current_time())):
            return await call
    except TimeoutError as exc:
        raise LlmTimeoutError(model, timeout_s) from exc
    except LlmError:
        raise
    except Exception as exc:
        mapped = _map_error(exc, model, timeout_s)
        if mapped is None:
            raise
        raise mapped from exc


def _get(obj: Any, name: str) -> Any:
    return obj.get(name) if isinstance(obj, Mapping) else getattr(obj, name, None)


def _usage(raw: Any) -> Usage:
    usage = _get(raw, "usage")
    if usage is None:
        return Usage()
    prompt, completion = int(_get(usage, "prompt_tokens") or 0), int(_get(usage, "completion_tokens") or 0)
    return Usage(prompt, completion, int(_get(usage, "total_tokens") or prompt + completion))


# ---- public calls --------------------------------------------------------------------------
async def complete(req: LlmRequest, settings: ProviderSettings) -> LlmResponse:
    """One non-streamed completion."""
    litellm = _litellm()
    kw = _completion_kwargs(req, settings)
    model = req.config.model
    raw = await _guarded(litellm.acompletion(**kw), model, req.timeout_s, anyio.current_time() + req.timeout_s)
    choices = _get(raw, "choices")
    if not choices:
        raise LlmResponseError(f"{model}: the provider's answer has no choices")
    message = _get(choices[0], "message")
    tool_calls = []
    for i, call in enumerate(_get(message, "tool_calls") or []):
        function = _get(call, "function")
        name = _get(function, "name")
        if not name:
            raise LlmResponseError(f"{model}: tool call #{i} has no function name")
        tool_calls.append(ToolCall(_get(call, "id") or f"call_{i}", name, _get(function, "arguments") or "{}"))
    response = LlmResponse(
        content=_get(message, "content"),
        reasoning=_get(message, "reasoning_content"),
        tool_calls=tool_calls,
        usage=_usage(raw),
        finish_reason=_get(choices[0], "finish_reason"),
        raw_model=_get(raw, "model"),
        thinking_blocks=_thinking_blocks(_get(message, "thinking_blocks")),
    )
    if not (response.content or response.reasoning or response.tool_calls):
        raise LlmResponseError(f"{model}: the provider's answer is empty (no content, reasoning or tool calls)")
    return response


_THINKING_KEYS = ("type", "thinking", "signature", "data")


def _thinking_blocks(blocks: Any) -> tuple[dict[str, Any], ...]:
    out = []
    for block in blocks or []:
        kept = {k: _get(block, k) for k in _THINKING_KEYS if _get(block, k) is not None}
        if kept.get("type") in ("thinking", "redacted_thinking"):
            out.append(kept)
    return tuple(out)


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


async def stream(req: LlmRequest, settings: ProviderSettings) -> AsyncIterator[LlmDelta]:
    """Stream a completion: deltas as they arrive, then one StreamEnd with the assembled response.

    timeout_s bounds the whole stream; the cancel scope never spans a `yield`.
    """
    litellm = _litellm()
    kw = _completion_kwargs(req, settings) | {"stream": True, "stream_options": {"include_usage": True}}
    model, deadline = req.config.model, anyio.current_time() + req.timeout_s
    chunks = await _guarded(litellm.acompletion(**kw), model, req.timeout_s, deadline)
    assembly = _Assembly()
    iterator = chunks.__aiter__()
    try:
        while True:
            try:
                chunk = await _guarded(iterator.__anext__(), model, req.timeout_s, deadline)
            except StopAsyncIteration:
                break
            for delta in assembly.feed(chunk):
                yield delta
    finally:
        with anyio.CancelScope(shield=True), anyio.move_on_after(5):
            close = getattr(chunks, "aclose", None)
            if close is not None:
                await close()
    yield StreamEnd(assembly.finish(model))


async def embed(
    config: EmbeddingConfig, texts: Sequence[str], settings: ProviderSettings, *, timeout_s: float = 60.0
) -> list[list[float]]:
    """Embed `texts` in batches of config.batch_size; timeout_s bounds each batch."""
    litellm = _litellm()
    model = config.embedding_model
    if config.embedding_endpoint_type == "azure":
        model = config.azure_deployment or model
    endpoint = config.azure_endpoint or config.embedding_endpoint
    kw = _model_kwargs(config.embedding_endpoint_type, model, endpoint, settings)
    if config.embedding_endpoint_type == "ollama":
        kw["model"] = f"ollama/{model}"
    vectors: list[list[float]] = []
    size = max(1, config.batch_size)
    for start in range(0, len(texts), size):
        batch = list(texts[start : start + size])
        call = litellm.aembedding(input=batch, timeout=timeout_s, max_retries=0, num_retries=0, **kw)
        raw = await _guarded(call, model, timeout_s, anyio.current_time() + timeout_s)
        data = sorted(_get(raw, "data") or [], key=lambda d: int(_get(d, "index") or 0))
        if len(data) != len(batch):
            raise LlmResponseError(f"{model}: asked for {len(batch)} embeddings, got {len(data)}")
        try:
            vectors.extend([float(x) for x in _get(d, "embedding")] for d in data)
        except (TypeError, ValueError) as exc:
            raise LlmResponseError(f"{model}: an embedding is not a list of numbers") from exc
    return vectors


def count_tokens(model: str, messages: Sequence[ChatMessage] = (), text: str = "") -> int:
    """Approximate prompt size: cl100k_base tokens (exact for OpenAI chat models, close elsewhere).

    Uses the encoding bundled with litellm (offline; no per-model tokenizer downloads), plus the
    OpenAI chat framing overhead of 3 tokens per message and 3 for the reply. `model` is reserved
    for per-provider tokenizers.
    """
    encoding = _encoding()
    total = len(encoding.encode(text, disallowed_special=())) if text else 0
    for m in messages:
        total += 3 + len(encoding.encode(m.content or "", disallowed_special=()))
        for call in m.tool_calls:
            total += 3 + len(encoding.encode(call.name + call.arguments_json, disallowed_special=()))
    return total + (3 if messages else 0)


@cache
def _encoding() -> Any:
    _litellm()
    from litellm.litellm_core_utils.default_encoding import encoding

    return encoding


def warm_up() -> None:
    """Do the one-time work of the first model call ahead of it (blocking: run it in a thread).

    Importing litellm is only part of it: the OpenAI SDK imports all of its resource modules on a client's
    first ``.chat`` (seconds of CPU on a busy machine), and litellm's request and response paths import
    more on first use. Done inside a turn, that work counted against the turn's model deadline: with a
    short ``LETTA_LLM_TIMEOUT_SECONDS`` the first call after start-up could time out before it was sent.
    A mocked completion walks litellm's path without the network."""
    litellm = _litellm()
    import openai.resources  # noqa: F401  (what the SDK's first `.chat` imports)

    litellm.completion(model="openai/warm-up", api_key="warm-up", mock_response="ok",
                       messages=[{"role": "user", "content": "warm up"}], num_retries=0, max_retries=0)
