"""Which models this server offers: the configured providers' catalogues (listed live, cached), and
handles such as ``openai/gpt-4o-mini`` resolved into an `LLMConfig` / `EmbeddingConfig` (rules in
``host.llm.providers``)."""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

import anyio

from host.llm.providers import (
    AZURE_DEPLOYMENTS_API_VERSION,
    GLOBAL_MAX_CONTEXT_WINDOW,
    GROQ_OFFICIAL_BASE,
    LISTING_RETRY_S,
    LISTING_TIMEOUT_S,
    LISTING_TTL_S,
    TOGETHER_OFFICIAL_BASE,
    ContextWindowError,
    EmbeddingConfig,
    LLMConfig,
    ProviderSettings,
    UnknownHandleError,
    context_window_for,
    embedding_dim_for,
)

if TYPE_CHECKING:
    import httpx

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class _Provider:
    name: str  # handle prefix
    endpoint_type: str
    endpoint: str | None
    llm_catalogue: tuple[str, ...] = ()
    embedding_catalogue: tuple[str, ...] = ()
    embedding_batch_size: int = 32


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

    def __init__(self, settings: ProviderSettings, *, listing_timeout_s: float = LISTING_TIMEOUT_S,
                 listing_retry_s: float = LISTING_RETRY_S) -> None:
        self.settings = settings
        self._providers = {p.name: p for p in _configured_providers(settings)}
        self._timeout_s = listing_timeout_s
        self._retry_s = listing_retry_s
        self._listings: dict[str, _Listing] = {}
        self._failed_at: dict[str, float] = {}  # the last failed listing of each provider (monotonic)
        self._lock = anyio.Lock()

    # ---- listing ---------------------------------------------------------------------------
    async def list_llm_models(self) -> list[LLMConfig]:
        await self.refresh()
        return [self._llm(p, name) for p in self._providers.values() for name in self._llm_names(p)]

    async def list_embedding_models(self) -> list[EmbeddingConfig]:
        await self.refresh()
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

    async def refresh(self) -> None:
        """Fetch remote model lists (OpenAI-compatible /models, Ollama /api/tags, Azure deployments), cached; called
        before ``resolve_llm``/``resolve_embedding`` (the listings also build every model's config)."""
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
                if (k not in self._listings or now - self._listings[k].fetched_at > LISTING_TTL_S)
                and now - self._failed_at.get(k, -math.inf) > self._retry_s  # a failure stands a while
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
            self._failed_at[provider] = time.monotonic()
            logger.warning("could not list %s models from %s: %r (the last listing stands; asking again in %g s)",
                           provider, url, exc, self._retry_s)
            return
        self._failed_at.pop(provider, None)
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


__all__ = ["ProviderRegistry"]
