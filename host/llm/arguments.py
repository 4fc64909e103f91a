"""litellm's arguments for one call: the model string and credentials per provider, the messages, the
tools and each provider's reasoning knob. Pure functions; no litellm import."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from typing import Any

from host.llm.errors import LlmConfigError
from host.llm.providers import GEMINI_OFFICIAL_BASE, LLMConfig, ProviderSettings
from host.llm.types import ChatMessage, LlmRequest

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


def _completion_kwargs(req: LlmRequest, s: ProviderSettings, *, messages: bool = True) -> dict[str, Any]:
    c = req.config
    kw = _model_kwargs(c.model_endpoint_type, c.model, c.model_endpoint, s)
    if messages:
        kw["messages"] = [m.wire() for m in req.messages]
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


# How litellm reaches the provider, not what the provider is sent (credentials never leave the server).
_TRANSPORT = frozenset({"timeout", "num_retries", "max_retries", "api_key", "api_base", "api_version",
                        "aws_access_key_id", "aws_secret_access_key", "aws_region_name",
                        "aws_bedrock_runtime_endpoint"})


def provider_payload(req: LlmRequest, s: ProviderSettings, *, messages: bool = True) -> dict[str, Any]:
    """The chat-completion request the provider would get for ``req`` (built by the same
    ``_completion_kwargs`` as every call), without credentials and transport options; ``model`` is the
    provider's own model name. ``messages=False``: all of it but the messages."""
    body = {k: v for k, v in _completion_kwargs(req, s, messages=messages).items() if k not in _TRANSPORT}
    body["model"] = req.config.model
    return body


def provider_payload_json(req: LlmRequest, s: ProviderSettings, **extra: Any) -> str:
    """``provider_payload(req, s) | extra``, JSON-encoded, with each message's encoding reused from the calls
    before (``ChatMessage.wire_json``): the request costs its new messages, not its whole history."""
    head = json.dumps(provider_payload(req, s, messages=False) | extra)  # "{...}", never empty: it holds the model
    return f'{head[:-1]}, "messages": [{", ".join(m.wire_json for m in req.messages)}]}}'
