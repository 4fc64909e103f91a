"""Model providers: credentials, Letta's LLMConfig/EmbeddingConfig, and handle resolution.

`ProviderSettings` holds the credentials read once by the entrypoint (Letta's variable names, see
`ProviderSettings.from_env`). `ProviderRegistry` lists the models each configured provider offers and
turns a handle such as ``openai/gpt-4o-mini`` into an `LLMConfig` / `EmbeddingConfig`.
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
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

import anyio
from pydantic import BaseModel

if TYPE_CHECKING:
    import httpx

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


@dataclass(frozen=True)
class _Provider:
    name: str  # handle prefix
    endpoint_type: str
    endpoint: str | None
    llm_catalogue: tuple[str, ...] = ()
    embedding_catalogue: tuple[str, ...] = ()
    embedding_batch_size: int = 32


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


def _configured_providers(s: ProviderSettings) -> list[_Provider]:
    providers: list[_Provider] = []
    if s.openai_enabled:
        chat = ("gpt-4o-mini", "gpt-4o", "gpt-4.1", "gpt-4.1-mini", "gpt-4.1-nano", "o3-mini", "o4-mini")
        embed = ("text-embedding-3-small", "text-embedding-3-large", "text-embedding-ada-002")
        catalogue = s.openai_models or (() if s.openai_is_proxy else chat)
        embeddings = () if s.openai_is_proxy else embed
        providers.append(_Provider("openai", "openai", s.openai_base, catalogue, embeddings, embedding_batch_size=1024))
    if s.anthropic_api_key:
        claude = ("claude-3-5-sonnet-20241022", "claude-3-5-haiku-20241022", "claude-3-7-sonnet-20250219",
                  "claude-sonnet-4-20250514", "claude-opus-4-20250514")  # fmt: skip
        providers.append(_Provider("anthropic", "anthropic", s.anthropic_base, claude))
    if s.gemini_api_key:
        gemini = ("gemini-2.5-pro", "gemini-2.5-flash", "gemini-2.0-flash", "gemini-1.5-pro", "gemini-1.5-flash")
        providers.append(_Provider("google_ai", "google_ai", s.gemini_base, gemini, ("text-embedding-004",)))
    if s.ollama_base_url:
        providers.append(_Provider("ollama", "ollama", s.ollama_base_url.rstrip("/")))
    if s.groq_api_key:
        groq = ("llama-3.3-70b-versatile", "llama-3.1-8b-instant")
        providers.append(_Provider("groq", "groq", (s.groq_api_base or GROQ_OFFICIAL_BASE).rstrip("/"), groq))
    if s.together_api_key:
        together = ("meta-llama/Llama-3.3-70B-Instruct-Turbo",)
        base = (s.together_api_base or TOGETHER_OFFICIAL_BASE).rstrip("/")
        providers.append(_Provider("together", "together", base, together))
    if s.azure_api_key and s.azure_api_base:
        providers.append(_Provider("azure", "azure", s.azure_api_base.rstrip("/")))
    if s.vllm_api_base:
        providers.append(_Provider("vllm", "vllm", s.vllm_api_base.rstrip("/")))
    if s.bedrock_enabled:
        claude = ("anthropic.claude-3-5-sonnet-20241022-v2:0",)
        endpoint = s.bedrock_endpoint.rstrip("/") if s.bedrock_endpoint else None
        providers.append(_Provider("bedrock", "bedrock", endpoint, claude, ("amazon.titan-embed-text-v2:0",)))
    return providers


_HANDLE_ALIASES = {
    "gemini": "google_ai", "google": "google_ai", "together_ai": "together", "openai-proxy": "openai",
}  # fmt: skip
_EMBEDDING_PROVIDERS = {"openai", "google_ai", "ollama", "azure", "vllm", "together", "bedrock"}


def _is_embedding(listed: Mapping[str, object]) -> bool:
    """A listed model (or Azure deployment, by its model) that embeds rather than chats."""
    return any("embed" in str(listed.get(k, "")) for k in ("id", "model"))


@dataclass
class _Listing:
    fetched_at: float
    models: list[dict[str, object]]


class ProviderRegistry:
    """Lists and resolves model handles for the configured providers (one per app, owned by lifespan)."""

    def __init__(self, settings: ProviderSettings, *, listing_timeout_s: float = LISTING_TIMEOUT_S) -> None:
        self.settings = settings
        self._providers = {p.name: p for p in _configured_providers(settings)}
        self._timeout_s = listing_timeout_s
        self._listings: dict[str, _Listing] = {}
        self._lock = anyio.Lock()

    # ---- listing ---------------------------------------------------------------------------
    async def list_llm_models(self) -> list[LLMConfig]:
        await self._refresh()
        return [self._llm(p, name) for p in self._providers.values() for name in self._llm_names(p)]

    async def list_embedding_models(self) -> list[EmbeddingConfig]:
        await self._refresh()
        return [self._embedding(p, name) for p in self._providers.values() for name in self._embedding_names(p)]

    def _llm_names(self, p: _Provider) -> list[str]:
        if p.name == "openai" and self.settings.openai_models:
            return list(self.settings.openai_models)
        separate = p.name in ("ollama", "azure")  # these list chat and embedding models together
        listed = [str(m["id"]) for m in self._listed(p.name) if not (separate and _is_embedding(m))]
        return list(dict.fromkeys([*p.llm_catalogue, *listed]))

    def _embedding_names(self, p: _Provider) -> list[str]:
        if p.name not in _EMBEDDING_PROVIDERS:
            return []
        listed = [str(m["id"]) for m in self._listed(p.name) if _is_embedding(m)]
        return list(dict.fromkeys([*p.embedding_catalogue, *listed]))

    def _listed(self, provider: str) -> list[dict[str, object]]:
        listing = self._listings.get(provider)
        return listing.models if listing else []

    async def _refresh(self) -> None:
        """Fetch remote model lists (OpenAI-compatible /models, Ollama /api/tags, Azure deployments), cached."""
        s = self.settings
        targets: dict[str, str] = {}
        if "openai" in self._providers and s.openai_is_proxy and not s.openai_models:
            targets["openai"] = f"{s.openai_base}/models"
        if "vllm" in self._providers:
            targets["vllm"] = f"{self._providers['vllm'].endpoint}/models"
        if "ollama" in self._providers:
            targets["ollama"] = f"{self._providers['ollama'].endpoint}/api/tags"
        if "azure" in self._providers:
            base = self._providers["azure"].endpoint
            targets["azure"] = f"{base}/openai/deployments?api-version={AZURE_DEPLOYMENTS_API_VERSION}"
        now = time.monotonic()
        async with self._lock:
            stale = {
                k: url
                for k, url in targets.items()
                if k not in self._listings or now - self._listings[k].fetched_at > LISTING_TTL_S
            }
            if not stale:
                return
            import httpx  # not at import: this module is on the start-up path

            async with httpx.AsyncClient(timeout=self._timeout_s) as client, anyio.create_task_group() as tg:
                for provider, url in stale.items():
                    tg.start_soon(self._fetch, client, provider, url)

    async def _fetch(self, client: httpx.AsyncClient, provider: str, url: str) -> None:
        import httpx

        key = self.settings.openai_api_key if provider == "openai" else None
        headers = {"Authorization": f"Bearer {key}"} if key else {}
        if provider == "azure":
            headers = {"api-key": self.settings.azure_api_key or ""}
        try:
            with anyio.fail_after(self._timeout_s):
                response = await client.get(url, headers=headers)
            response.raise_for_status()
            body = response.json()
            if provider == "ollama":
                models = [{"id": m["name"], **m} for m in body.get("models", [])]
            else:
                models = [m for m in body.get("data", []) if isinstance(m, dict) and "id" in m]
        except (httpx.HTTPError, TimeoutError, ValueError, KeyError, AttributeError, TypeError) as exc:
            logger.warning("could not list %s models from %s: %r", provider, url, exc)
            return  # not cached: the next listing retries
        self._listings[provider] = _Listing(time.monotonic(), models)

    # ---- resolution ------------------------------------------------------------------------
    def _split(self, handle: str) -> tuple[_Provider, str] | None:
        prefix, sep, model = handle.partition("/")
        provider = self._providers.get(_HANDLE_ALIASES.get(prefix, prefix))
        if not sep or not model or provider is None:
            return None
        return provider, model

    def _known_llm_handles(self) -> list[str]:
        return [self._llm_handle(p, n) for p in self._providers.values() for n in self._llm_names(p)]

    def _known_embedding_handles(self) -> list[str]:
        return [f"{p.name}/{n}" for p in self._providers.values() for n in self._embedding_names(p)]

    def resolve_llm(self, handle: str, *, context_window_limit: int | None = None) -> LLMConfig:
        found = self._split(handle)
        if found is None:
            raise UnknownHandleError(handle, self._known_llm_handles())
        config = self._llm(*found)
        if context_window_limit is not None:
            if context_window_limit > config.context_window:
                raise ContextWindowError(handle, context_window_limit, config.context_window)
            config.context_window = context_window_limit
        else:
            config.context_window = min(config.context_window, GLOBAL_MAX_CONTEXT_WINDOW)
        return config

    def resolve_embedding(self, handle: str) -> EmbeddingConfig:
        found = self._split(handle)
        if found is None or found[0].name not in _EMBEDDING_PROVIDERS:
            raise UnknownHandleError(handle, self._known_embedding_handles())
        return self._embedding(*found)

    # ---- config builders -------------------------------------------------------------------
    def _llm_handle(self, p: _Provider, model: str) -> str:
        proxied = p.name == "openai" and self.settings.openai_is_proxy
        return f"{'openai-proxy' if proxied else p.name}/{model}"

    def _llm(self, p: _Provider, model: str) -> LLMConfig:
        listed = next((m for m in self._listed(p.name) if m.get("id") == model), {})
        sizes = (listed.get(k) for k in ("context_length", "max_model_len", "context_window"))
        window = next((v for v in sizes if isinstance(v, int)), None)
        underlying = listed.get("model") if p.name == "azure" else None  # an Azure deployment's model
        config = LLMConfig(
            model=model,
            model_endpoint_type=p.endpoint_type,  # type: ignore[arg-type]
            model_endpoint=p.endpoint,
            provider_name=p.name,
            provider_category="base",
            context_window=window or context_window_for(underlying if isinstance(underlying, str) else model),
            handle=self._llm_handle(p, model),
        )
        if "gpt-4o-mini" in model or "gpt-4.1-mini" in model:
            config.frequency_penalty = 1.0  # Letta's tuned default against repetition loops
        return config

    def _embedding(self, p: _Provider, model: str) -> EmbeddingConfig:
        azure = p.name == "azure"
        listed = next((m for m in self._listed(p.name) if m.get("id") == model), {})
        underlying = listed.get("model") if azure else None  # an Azure deployment's model
        return EmbeddingConfig(
            embedding_endpoint_type=p.endpoint_type,  # type: ignore[arg-type]
            embedding_endpoint=p.endpoint,
            embedding_model=model,
            embedding_dim=embedding_dim_for(underlying if isinstance(underlying, str) else model),
            handle=f"{p.name}/{model}",
            batch_size=p.embedding_batch_size,
            azure_endpoint=p.endpoint if azure else None,
            azure_version=self.settings.azure_api_version if azure else None,
            azure_deployment=model if azure else None,
        )


__all__ = [
    "ANTHROPIC_OFFICIAL_BASE", "AZURE_DEFAULT_API_VERSION", "AZURE_DEPLOYMENTS_API_VERSION", "DEFAULT_CONTEXT_WINDOW",
    "DEFAULT_EMBEDDING_DIM", "GEMINI_OFFICIAL_BASE", "GLOBAL_MAX_CONTEXT_WINDOW", "GROQ_OFFICIAL_BASE",
    "LISTING_TIMEOUT_S", "LISTING_TTL_S", "OPENAI_OFFICIAL_BASE", "TOGETHER_OFFICIAL_BASE", "ContextWindowError",
    "EmbeddingConfig", "LLMConfig", "ProviderError", "ProviderRegistry", "ProviderSettings", "UnknownHandleError",
    "context_window_for", "embedding_dim_for",
]
