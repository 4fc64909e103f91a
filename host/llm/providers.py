"""Model providers: credentials, Letta's LLMConfig/EmbeddingConfig, and handle resolution.

`ProviderSettings` holds the credentials read once by the entrypoint (Letta's variable names, see
`ProviderSettings.from_env`). `ProviderRegistry` (in ``host.llm.registry``) lists the models each
configured provider offers and turns a handle such as ``openai/gpt-4o-mini`` into an `LLMConfig` /
`EmbeddingConfig`.
No litellm here: this module sits on the server start-up path.

Handles are ``<provider>/<model>``. Providers: openai, anthropic, google_ai (alias gemini), ollama,
groq, together, azure, vllm, bedrock. Rules, chosen to match Letta 0.8.17 and its users:

* Any model name is accepted under a *configured* provider, listed or not: OpenAI-compatible servers,
  Ollama and vLLM serve arbitrary names and cloud catalogues move faster than any table here. Unknown
  names get a context window from the listing (``context_length``/``max_model_len``) or the table
  below, else ``DEFAULT_CONTEXT_WINDOW`` (Letta's 30000). A wrong name then fails at call time with
  the provider's own message.
* With ``OPENAI_API_BASE`` pointing somewhere other than api.openai.com, chat models are listed (and
  resolved) as ``openai-proxy/<model>`` like Letta does; ``openai/<model>`` is accepted as an alias.
  Embedding handles stay ``openai/<model>``.
* ``resolve_llm`` caps the context window at ``GLOBAL_MAX_CONTEXT_WINDOW`` (32000) unless the caller
  asks for an explicit ``context_window_limit`` (Letta's agent-creation behaviour); listings show the
  model's full window.

Errors::

    ProviderError
    ├── UnknownHandleError        handle is malformed, or its provider is unknown / not configured
    └── ContextWindowError        context_window_limit larger than the model's window
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from pydantic import BaseModel

if TYPE_CHECKING:
    pass

logger = logging.getLogger(__name__)

OPENAI_OFFICIAL_BASE = "https://api.openai.com/v1"
ANTHROPIC_OFFICIAL_BASE = "https://api.anthropic.com/v1"
GEMINI_OFFICIAL_BASE = "https://generativelanguage.googleapis.com"
GROQ_OFFICIAL_BASE = "https://api.groq.com/openai/v1"
TOGETHER_OFFICIAL_BASE = "https://api.together.ai/v1"
AZURE_DEFAULT_API_VERSION = "2024-09-01-preview"  # Letta's default
AZURE_DEPLOYMENTS_API_VERSION = "2023-03-15-preview"  # the last version that lists deployments (Letta uses it)
DEFAULT_CONTEXT_WINDOW = 30000
GLOBAL_MAX_CONTEXT_WINDOW = 32000
DEFAULT_EMBEDDING_DIM = 1536
LISTING_TTL_S = 60.0
LISTING_TIMEOUT_S = 5.0
# After a listing failed, how long the last listing (or none) stands before the provider is asked again: without
# it, every create and model resolution while a provider was down waited for the listing again (up to
# LISTING_TIMEOUT_S when its host drops the connection) and logged a warning.
LISTING_RETRY_S = 15.0


class ProviderError(Exception):
    """Base class of this module's errors."""


class UnknownHandleError(ProviderError):
    def __init__(self, handle: str, known: list[str]) -> None:
        self.handle = handle
        self.known = sorted(known)
        listing = ", ".join(self.known) if self.known else "none (configure a provider API key or base URL)"
        super().__init__(
            f"Unknown model handle {handle!r}: use '<provider>/<model>' with a configured provider. "
            f"Valid handles: {listing}"
        )


class ContextWindowError(ProviderError):
    def __init__(self, handle: str, requested: int, maximum: int) -> None:
        self.handle, self.requested, self.maximum = handle, requested, maximum
        super().__init__(
            f"context_window_limit {requested} is larger than the {maximum} tokens {handle!r} supports; "
            f"pass at most {maximum}"
        )


@dataclass(frozen=True)
class ProviderSettings:
    """Provider credentials and endpoints; built once by the entrypoint and passed down."""

    openai_api_key: str | None = None
    openai_api_base: str | None = None
    anthropic_api_key: str | None = None
    anthropic_api_base: str | None = None
    gemini_api_key: str | None = None
    gemini_api_base: str | None = None
    ollama_base_url: str | None = None
    groq_api_key: str | None = None
    groq_api_base: str | None = None
    together_api_key: str | None = None
    together_api_base: str | None = None
    azure_api_key: str | None = None
    azure_api_base: str | None = None
    azure_api_version: str | None = AZURE_DEFAULT_API_VERSION
    vllm_api_base: str | None = None
    aws_access_key_id: str | None = None
    aws_secret_access_key: str | None = None
    aws_region: str | None = None
    bedrock_endpoint: str | None = None
    openai_models: tuple[str, ...] | None = None  # replaces the OpenAI listing when set

    def beyond_openai(self) -> bool:
        """Whether a provider that is not OpenAI-compatible (one litellm calls) is configured."""
        return any((self.anthropic_api_key, self.gemini_api_key, self.ollama_base_url, self.groq_api_key,
                    self.together_api_key, self.azure_api_key, self.azure_api_base, self.aws_access_key_id,
                    self.bedrock_endpoint))

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> ProviderSettings:
        """Read Letta's variable names from `env` (the entrypoint passes os.environ).

        Base URLs (for proxies and gateways; the first name set wins): ``OPENAI_API_BASE``,
        ``ANTHROPIC_BASE_URL``/``ANTHROPIC_API_BASE``, ``GEMINI_BASE_URL``/``GEMINI_API_BASE`` (without the
        API version), ``OLLAMA_BASE_URL``, ``GROQ_BASE_URL``/``GROQ_API_BASE``,
        ``TOGETHER_BASE_URL``/``TOGETHER_API_BASE``, ``AZURE_BASE_URL``/``AZURE_API_BASE``, ``VLLM_API_BASE``,
        ``AWS_BEDROCK_RUNTIME_ENDPOINT``/``AWS_ENDPOINT_URL_BEDROCK_RUNTIME``.
        """

        def get(*names: str) -> str | None:
            return next((env[n].strip() for n in names if env.get(n, "").strip()), None)

        models = get("AGENTHOST_OPENAI_MODELS")
        return cls(
            openai_api_key=get("OPENAI_API_KEY"),
            openai_api_base=get("OPENAI_API_BASE"),
            anthropic_api_key=get("ANTHROPIC_API_KEY"),
            anthropic_api_base=get("ANTHROPIC_BASE_URL", "ANTHROPIC_API_BASE"),
            gemini_api_key=get("GEMINI_API_KEY"),
            gemini_api_base=get("GEMINI_BASE_URL", "GEMINI_API_BASE"),
            ollama_base_url=get("OLLAMA_BASE_URL"),
            groq_api_key=get("GROQ_API_KEY"),
            groq_api_base=get("GROQ_BASE_URL", "GROQ_API_BASE"),
            together_api_key=get("TOGETHER_API_KEY"),
            together_api_base=get("TOGETHER_BASE_URL", "TOGETHER_API_BASE"),
            azure_api_key=get("AZURE_API_KEY"),
            azure_api_base=get("AZURE_BASE_URL", "AZURE_API_BASE"),
            azure_api_version=get("AZURE_API_VERSION") or AZURE_DEFAULT_API_VERSION,
            vllm_api_base=get("VLLM_API_BASE"),
            aws_access_key_id=get("AWS_ACCESS_KEY_ID", "AWS_ACCESS_KEY"),
            aws_secret_access_key=get("AWS_SECRET_ACCESS_KEY"),
            aws_region=get("AWS_REGION", "AWS_DEFAULT_REGION"),
            bedrock_endpoint=get("AWS_BEDROCK_RUNTIME_ENDPOINT", "AWS_ENDPOINT_URL_BEDROCK_RUNTIME"),
            openai_models=tuple(m.strip() for m in models.split(",") if m.strip()) if models else None,
        )

    @property
    def openai_enabled(self) -> bool:
        return bool(self.openai_api_key or self.openai_api_base)

    @property
    def openai_base(self) -> str:
        return (self.openai_api_base or OPENAI_OFFICIAL_BASE).rstrip("/")

    @property
    def openai_is_proxy(self) -> bool:
        return self.openai_base != OPENAI_OFFICIAL_BASE

    @property
    def anthropic_base(self) -> str:
        return (self.anthropic_api_base or ANTHROPIC_OFFICIAL_BASE).rstrip("/")

    @property
    def gemini_base(self) -> str:
        return (self.gemini_api_base or GEMINI_OFFICIAL_BASE).rstrip("/")

    @property
    def bedrock_enabled(self) -> bool:
        return bool(self.aws_access_key_id and self.aws_secret_access_key and self.aws_region)


EndpointType = Literal[
    "openai", "anthropic", "cohere", "google_ai", "google_vertex", "azure", "groq", "ollama", "webui",
    "webui-legacy", "lmstudio", "lmstudio-legacy", "lmstudio-chatcompletions", "llamacpp", "koboldcpp",
    "vllm", "hugging-face", "mistral", "together", "bedrock", "deepseek", "xai",
]  # fmt: skip
EmbeddingEndpointType = Literal[
    "openai", "anthropic", "bedrock", "cohere", "google_ai", "google_vertex", "azure", "groq", "ollama",
    "webui", "webui-legacy", "lmstudio", "lmstudio-legacy", "llamacpp", "koboldcpp", "vllm",
    "hugging-face", "mistral", "together",
]  # fmt: skip


class LLMConfig(BaseModel):
    """Letta's LLMConfig (field names and defaults as in Letta 0.8.17's OpenAPI schema)."""

    model: str
    model_endpoint_type: EndpointType
    model_endpoint: str | None = None
    provider_name: str | None = None
    provider_category: Literal["base", "byok"] | None = None
    model_wrapper: str | None = None
    context_window: int
    put_inner_thoughts_in_kwargs: bool | None = True
    handle: str | None = None
    temperature: float = 0.7
    max_tokens: int | None = 4096
    enable_reasoner: bool = False
    reasoning_effort: Literal["low", "medium", "high"] | None = None
    max_reasoning_tokens: int = 0
    frequency_penalty: float | None = None


class EmbeddingConfig(BaseModel):
    """Letta's EmbeddingConfig (field names and defaults as in Letta 0.8.17's OpenAPI schema)."""

    embedding_endpoint_type: EmbeddingEndpointType
    embedding_endpoint: str | None = None
    embedding_model: str
    embedding_dim: int
    embedding_chunk_size: int | None = 300
    handle: str | None = None
    batch_size: int = 32
    azure_endpoint: str | None = None
    azure_version: str | None = None
    azure_deployment: str | None = None


# Known context windows (prefix match, longest first) and embedding dimensions.
CONTEXT_WINDOWS: dict[str, int] = {
    "gpt-4o": 128000, "gpt-4.1": 1047576, "gpt-4-turbo": 128000, "gpt-4": 8192, "gpt-3.5-turbo": 16385,
    "gpt-5": 400000, "o1": 200000, "o3": 200000, "o4-mini": 200000, "claude": 200000,
    "gemini-1.5-pro": 2097152, "gemini": 1048576, "llama-3.1": 131072, "llama-3.3": 131072,
    "llama3.1": 131072, "llama3.2": 131072, "llama3.3": 131072, "llama3": 8192, "qwen2.5": 32768,
    "meta-llama/Llama-3.3": 131072, "mistral": 32768,
}  # fmt: skip
EMBEDDING_DIMS: dict[str, int] = {
    "text-embedding-3-large": 3072, "text-embedding-3-small": 1536, "text-embedding-ada-002": 1536,
    "text-embedding-004": 768, "nomic-embed-text": 768, "mxbai-embed-large": 1024, "all-minilm": 384,
    "amazon.titan-embed-text-v2": 1024, "BAAI/bge-large-en-v1.5": 1024,
}  # fmt: skip


def context_window_for(model: str, default: int = DEFAULT_CONTEXT_WINDOW) -> int:
    for prefix in sorted(CONTEXT_WINDOWS, key=len, reverse=True):
        if model.startswith(prefix):
            return CONTEXT_WINDOWS[prefix]
    return default


def embedding_dim_for(model: str) -> int:
    for prefix in sorted(EMBEDDING_DIMS, key=len, reverse=True):
        if model.startswith(prefix):
            return EMBEDDING_DIMS[prefix]
    return DEFAULT_EMBEDDING_DIM


__all__ = [
    "ANTHROPIC_OFFICIAL_BASE", "AZURE_DEFAULT_API_VERSION", "AZURE_DEPLOYMENTS_API_VERSION", "CONTEXT_WINDOWS",
    "DEFAULT_CONTEXT_WINDOW", "DEFAULT_EMBEDDING_DIM", "EMBEDDING_DIMS", "GEMINI_OFFICIAL_BASE",
    "GLOBAL_MAX_CONTEXT_WINDOW", "GROQ_OFFICIAL_BASE", "LISTING_RETRY_S", "LISTING_TIMEOUT_S", "LISTING_TTL_S",
    "OPENAI_OFFICIAL_BASE",
    "TOGETHER_OFFICIAL_BASE", "ContextWindowError", "EmbeddingConfig", "LLMConfig", "ProviderError",
    "ProviderSettings", "UnknownHandleError", "context_window_for", "embedding_dim_for",
]
