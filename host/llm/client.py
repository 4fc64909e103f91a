"""litellm itself (imported lazily, on the first call), its failures mapped onto `LlmError`, and the
non-streamed completion.

`import litellm` costs seconds, so it happens on the first call (or `warm_up()`), never at import. This
package never reads os.environ (it only sets ``LITELLM_LOCAL_MODEL_COST_MAP`` before the import so litellm
does not fetch its cost map). Every call runs under `anyio.fail_after`, with litellm and the OpenAI SDK
told not to retry (retries would hide failures and multiply timeouts: the agent loop decides what to retry).
"""

from __future__ import annotations

import importlib
import json
import logging
import os
import re
import sys
import threading
from collections.abc import Awaitable, Mapping
from functools import cache
from typing import Any, TypeVar

import anyio

from host.llm.arguments import _completion_kwargs, provider_payload_json
from host.llm.errors import (
    LlmConnectionError,
    LlmContextWindowError,
    LlmError,
    LlmProviderError,
    LlmResponseError,
    LlmTimeoutError,
)
from host.llm.providers import ProviderSettings
from host.llm.types import LlmRequest, LlmResponse, ToolCall, Usage
from mcp_client import HEAVY_IMPORTS, load_sdk

T = TypeVar("T")


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
    # Count tokens with the bundled tiktoken encoding: for Llama-family names (Groq, Together, ...) litellm
    # would otherwise fetch a Hugging Face tokenizer, a blocking download inside the event loop (offline:
    # ~20 s of retries per streamed call).
    litellm.disable_hf_tokenizer_download = True
    for name in ("LiteLLM", "LiteLLM Router", "LiteLLM Proxy", "litellm"):
        logging.getLogger(name).setLevel(logging.WARNING)
    return litellm


# Importing modules from two threads at once can leave one of them half-initialised ("partially initialized
# module ... (most likely due to a circular import)"). litellm is therefore imported once, by ``warm_up``,
# in a worker thread, under the lock the MCP SDK is imported under (the two share dependencies); every
# path into litellm goes through it. Process-wide, as the import system itself is.
_warmed = threading.Event()


async def after_warm_up() -> None:
    """Return once litellm is imported and warmed: at once when it is, else warm it up (or wait for the warm-up
    already running) in a worker thread, never on the event loop."""
    if not _warmed.is_set():
        await anyio.to_thread.run_sync(warm_up, abandon_on_cancel=True)


def warm_up() -> None:
    """Do the one-time work of the first model call ahead of it (blocking: run it in a worker thread).
    Idempotent and thread-safe: later and concurrent callers return once the first has finished.

    Importing litellm is only part of it: the OpenAI SDK imports all of its resource modules on a client's
    first ``.chat`` (seconds of CPU on a busy machine), and litellm's request and response paths import
    more on first use. Done inside a turn, that work counted against the turn's model deadline: with a
    short ``LETTA_LLM_TIMEOUT_SECONDS`` the first call after start-up could time out before it was sent.
    A mocked completion walks litellm's path without the network."""
    if _warmed.is_set():
        return
    with HEAVY_IMPORTS:
        if _warmed.is_set():
            return
        # litellm imports parts of the MCP SDK on first use, on the event loop's thread, where two threads
        # importing the SDK side by side (this one, the /mcp endpoint's or the client pool's loader) could
        # break each other's imports: a server that calls litellm loads the whole SDK first, here.
        load_sdk()
        litellm = _litellm()
        import openai.resources  # noqa: F401  (what the SDK's first `.chat` imports)
        importlib.import_module("litellm.litellm_core_utils.default_encoding")  # the token counter's encoding

        litellm.completion(model="openai/warm-up", api_key="warm-up", mock_response="ok",
                           messages=[{"role": "user", "content": "warm up"}], num_retries=0, max_retries=0)
        _warmed.set()


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

    litellm = sys.modules.get("litellm")  # a failure on the litellm path; the HTTP path maps its own
    chain = _causes(exc)
    timeouts = (TimeoutError, httpx.TimeoutException, *((litellm.Timeout,) if litellm is not None else ()))
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
    if litellm is not None and isinstance(exc, litellm.ContextWindowExceededError):
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
    """One non-streamed completion (OpenAI-compatible endpoints over HTTP, every other through litellm)."""
    from host.llm import openai_http

    model = req.config.model
    sent = None
    if openai_http.lean(req):
        sent = provider_payload_json(req, settings)
        call: Awaitable[Any] = openai_http.post(req, settings, sent)
    else:
        await after_warm_up()
        call = _litellm().acompletion(**_completion_kwargs(req, settings))
    raw = await _guarded(call, model, req.timeout_s, anyio.current_time() + req.timeout_s)
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
        sent=sent,
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
