"""Embeddings (OpenAI-compatible endpoints over HTTP, the others through litellm), and the token count the
context window is budgeted with."""

from __future__ import annotations

import importlib.util
import os
from collections.abc import Sequence
from functools import cache
from pathlib import Path
from typing import Any

import anyio

from host.llm import openai_http
from host.llm.arguments import _model_kwargs
from host.llm.client import _get, _guarded, _litellm, after_warm_up
from host.llm.errors import LlmResponseError
from host.llm.providers import EmbeddingConfig, ProviderSettings
from host.llm.types import ChatMessage
from mcp_client import HEAVY_IMPORTS


async def embed(
    config: EmbeddingConfig, texts: Sequence[str], settings: ProviderSettings, *, timeout_s: float = 60.0
) -> list[list[float]]:
    """Embed `texts` in batches of config.batch_size; timeout_s bounds each batch. OpenAI-compatible
    endpoints are called over HTTP (``host.llm.openai_http``), every other one through litellm."""
    lean = config.embedding_endpoint_type in openai_http.LEAN_ENDPOINT_TYPES
    if not lean:
        await after_warm_up()
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
        if lean:
            call = openai_http.embeddings(config.embedding_endpoint_type, model, endpoint, settings, batch, timeout_s)
        else:
            call = _litellm().aembedding(input=batch, timeout=timeout_s, max_retries=0, num_retries=0, **kw)
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
    """cl100k_base from the copy bundled with litellm, loaded by tiktoken without importing litellm (offline,
    as litellm itself loads it). Blocking (about 0.3 s, under the heavy-import lock): async callers await
    ``tokenizer_ready`` first."""
    with HEAVY_IMPORTS:
        import tiktoken

        if not os.environ.get("TIKTOKEN_CACHE_DIR"):
            spec = importlib.util.find_spec("litellm")  # locates the package; does not import it
            if spec is not None and spec.submodule_search_locations:
                bundled = Path(next(iter(spec.submodule_search_locations))) / "litellm_core_utils" / "tokenizers"
                os.environ["TIKTOKEN_CACHE_DIR"] = os.environ.get("CUSTOM_TIKTOKEN_CACHE_DIR") or str(bundled)
        encoding = tiktoken.get_encoding("cl100k_base")
        # Counting runs in the Rust core, which holds its own copy of the ranks; the Python dict kept beside it
        # (for pickling only, tiktoken 0.14) is 14 MB of RSS.
        encoding._mergeable_ranks = {}
        return encoding


def load_tokenizer() -> None:
    """Load the token counter's encoding (blocking: call it in a worker thread). Thread-safe."""
    _encoding()


async def tokenizer_ready() -> None:
    """Return once the token counter's encoding is loaded, loading it in a worker thread if need be."""
    if _encoding.cache_info().currsize == 0:
        await anyio.to_thread.run_sync(load_tokenizer, abandon_on_cancel=True)
