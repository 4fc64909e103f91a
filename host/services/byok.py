"""Bring-your-own providers (``/v1/providers``): an organization's own provider keys, encrypted at rest.

A provider named ``acme`` adds its models as ``acme/<model>`` handles to ``/v1/models`` (and
``/v1/models/embedding``) for that organization only, and that organization's agents can use them. OpenAI-
compatible types list their models from ``<base_url>/models`` with the key; Anthropic's catalogue is fixed.
Keys are Fernet ciphertext in the database (host.persistence.secret_box) and answered masked.
"""

from __future__ import annotations

import logging
from typing import Any

import anyio
import httpx
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from host.domain.actor import Actor
from host.errors import BadRequestError, ConflictError, NotFoundError
from host.ids import new_id, utcnow
from host.llm.providers import EmbeddingConfig, LLMConfig, context_window_for, embedding_dim_for
from host.persistence.db import Database
from host.persistence.models import ProviderRow
from host.persistence.secret_box import SecretBox
from host.schemas.tenants import Provider, ProviderCheck, ProviderCreate, ProviderUpdate

logger = logging.getLogger(__name__)

MASK = "********"
CHECK_TIMEOUT_S = 10.0
LIST_TIMEOUT_S = 5.0
OPENAI_COMPATIBLE = {"openai": "https://api.openai.com/v1", "deepseek": "https://api.deepseek.com/v1",
                     "xai": "https://api.x.ai/v1", "mistral": "https://api.mistral.ai/v1",
                     "together": "https://api.together.xyz/v1", "groq": "https://api.groq.com/openai/v1",
                     "lmstudio_openai": None, "vllm": None}
ANTHROPIC_BASE = "https://api.anthropic.com/v1"
ANTHROPIC_MODELS = ("claude-3-5-haiku-20241022", "claude-3-7-sonnet-20250219", "claude-sonnet-4-20250514")
SUPPORTED = sorted([*OPENAI_COMPATIBLE, "anthropic"])
# The environment providers' handle prefixes: an organization's provider may not take one (its models
# would shadow, or be shadowed by, the server's own).
RESERVED_NAMES = {"openai", "openai-proxy", "anthropic", "google_ai", "gemini", "google", "google_vertex", "ollama",
                  "groq", "together", "together_ai", "azure", "vllm", "bedrock", "letta"}


def _base_url(provider_type: str, base_url: str | None) -> str:
    if provider_type not in SUPPORTED:
        raise BadRequestError(f"provider_type {provider_type!r} is not supported for your own keys yet; "
                              f"use one of {SUPPORTED}")
    default = ANTHROPIC_BASE if provider_type == "anthropic" else OPENAI_COMPATIBLE[provider_type]
    url = (base_url or default or "").rstrip("/")
    if not url:
        raise BadRequestError(f"provider_type {provider_type!r} needs a base_url")
    if not url.startswith(("http://", "https://")):
        raise BadRequestError(f"base_url must be an http(s) URL, not {url[:80]!r}")
    return url


async def _remote_models(provider_type: str, base_url: str, api_key: str, timeout_s: float) -> list[dict[str, Any]]:
    """The provider's model list, fetched with the key (raises on refusal)."""
    if provider_type == "anthropic":
        headers = {"x-api-key": api_key, "anthropic-version": "2023-06-01"}
    else:
        headers = {"Authorization": f"Bearer {api_key}"}
    async with httpx.AsyncClient(timeout=timeout_s) as client:
        with anyio.fail_after(timeout_s):
            response = await client.get(f"{base_url}/models", headers=headers)
    response.raise_for_status()
    data = response.json().get("data", [])
    return [m for m in data if isinstance(m, dict) and isinstance(m.get("id"), str)]


async def _verified_models(provider_type: str, base_url: str, api_key: str) -> list[dict[str, Any]]:
    """The provider's model list, or a 400 naming why the key or the provider failed."""
    try:
        return await _remote_models(provider_type, base_url, api_key, CHECK_TIMEOUT_S)
    except httpx.HTTPStatusError as exc:
        raise BadRequestError(f"the provider refused the key: HTTP {exc.response.status_code} from "
                              f"{base_url}/models") from None
    except (httpx.HTTPError, TimeoutError, ValueError, AttributeError) as exc:
        raise BadRequestError(f"could not reach the provider at {base_url}: {type(exc).__name__}") from None


class ByokService:
    def __init__(self, db: Database, box: SecretBox) -> None:
        self.db = db
        self.box = box

    def _out(self, row: ProviderRow) -> Provider:
        return Provider(id=row.id, name=row.name, provider_type=row.provider_type, provider_category="byok",
                        api_key=MASK if row.api_key_enc else None, base_url=row.base_url,
                        access_key=MASK if row.access_key_enc else None, region=row.region,
                        organization_id=row.organization_id, updated_at=row.updated_at)

    async def list(self, actor: Actor, name: str | None = None, provider_type: str | None = None,
                   after: str | None = None, limit: int | None = 50) -> list[Provider]:
        return [self._out(r) for r in await self._rows(actor, name, provider_type, after, limit)]

    async def _rows(self, actor: Actor, name: str | None = None, provider_type: str | None = None,
                    after: str | None = None, limit: int | None = None) -> list[ProviderRow]:
        stmt = select(ProviderRow).where(ProviderRow.organization_id == actor.organization_id).order_by(ProviderRow.id)
        if name:
            stmt = stmt.where(ProviderRow.name == name)
        if provider_type:
            stmt = stmt.where(ProviderRow.provider_type == provider_type)
        if after:
            stmt = stmt.where(ProviderRow.id > after)
        if limit:
            stmt = stmt.limit(limit)
        async with self.db.session() as s:
            return list((await s.execute(stmt)).scalars())

    async def create(self, actor: Actor, body: ProviderCreate) -> Provider:
        row = ProviderRow(id=new_id("provider"), organization_id=actor.organization_id, name=body.name,
                          provider_type=body.provider_type, base_url=_base_url(body.provider_type, body.base_url),
                          api_key_enc=self.box.encrypt(body.api_key), access_key_enc=self.box.encrypt(body.access_key),
                          region=body.region)
        if body.name.lower() in RESERVED_NAMES:
            raise BadRequestError(f"provider name {body.name!r} is reserved for the server's own providers; "
                                  "choose another name (it prefixes your models' handles)")
        taken = ConflictError(f"a provider named {body.name!r} already exists in your organization")
        if await self._rows(actor, name=body.name):
            raise taken
        try:
            async with self.db.transaction() as s:
                s.add(row)
        except IntegrityError:  # a concurrent create of the same name
            raise taken from None
        return self._out(row)

    async def _row(self, s: Any, actor: Actor, provider_id: str) -> ProviderRow:
        row = await s.get(ProviderRow, provider_id)
        if row is None or row.organization_id != actor.organization_id:  # another org's provider: not found
            raise NotFoundError.for_id("Provider", provider_id)
        return row

    async def modify(self, actor: Actor, provider_id: str, body: ProviderUpdate) -> Provider:
        async with self.db.transaction() as s:
            row = await self._row(s, actor, provider_id)
            row.api_key_enc = self.box.encrypt(body.api_key)
            if body.access_key is not None:
                row.access_key_enc = self.box.encrypt(body.access_key)
            if body.region is not None:
                row.region = body.region
            if body.base_url is not None:
                row.base_url = _base_url(row.provider_type, body.base_url)
            row.updated_at = utcnow()
        return self._out(row)

    async def delete(self, actor: Actor, provider_id: str) -> None:
        async with self.db.transaction() as s:
            await s.delete(await self._row(s, actor, provider_id))

    async def check(self, body: ProviderCheck) -> dict[str, str]:
        """Validate a key against the provider (its model list), storing nothing."""
        base = _base_url(body.provider_type, body.base_url)
        await _verified_models(body.provider_type, base, body.api_key)
        return {"message": f"Valid api key for provider_type={body.provider_type}"}

    async def retrieve(self, actor: Actor, provider_id: str) -> Provider:
        async with self.db.session() as s:
            return self._out(await self._row(s, actor, provider_id))

    async def check_existing(self, actor: Actor, provider_id: str) -> dict[str, str]:
        """``check`` with a stored provider's own key and base URL."""
        async with self.db.session() as s:
            row = await self._row(s, actor, provider_id)
        await _verified_models(row.provider_type, row.base_url or "", self.box.decrypt(row.api_key_enc) or "")
        return {"message": f"Valid api key for provider_type={row.provider_type}"}

    async def refresh(self, actor: Actor, provider_id: str) -> Provider:
        """Re-list a provider's models from its API. Models are not cached here (every ``/v1/models`` lists
        them afresh), so a refresh is that listing made to fail loudly, and stamps ``updated_at``."""
        async with self.db.session() as s:
            row = await self._row(s, actor, provider_id)
        if row.provider_type != "anthropic":
            await _verified_models(row.provider_type, row.base_url or "", self.box.decrypt(row.api_key_enc) or "")
        async with self.db.transaction() as s:
            row = await self._row(s, actor, provider_id)
            row.updated_at = utcnow()
        return self._out(row)

    # ---- models ----------------------------------------------------------------------------
    async def _models(self, actor: Actor) -> list[tuple[ProviderRow, list[dict[str, Any]]]]:
        out: list[tuple[ProviderRow, list[dict[str, Any]]]] = []
        for row in await self._rows(actor):
            if row.provider_type == "anthropic":
                out.append((row, [{"id": m} for m in ANTHROPIC_MODELS]))
                continue
            try:
                key = self.box.decrypt(row.api_key_enc) or ""
                out.append((row, await _remote_models(row.provider_type, row.base_url or "", key, LIST_TIMEOUT_S)))
            except Exception as exc:  # noqa: BLE001 - an unreachable provider lists nothing; others still list
                logger.warning("could not list models of provider %s (%s): %s", row.name, row.id, type(exc).__name__)
                out.append((row, []))
        return out

    @staticmethod
    def _llm(row: ProviderRow, listed: dict[str, Any]) -> LLMConfig:
        model = str(listed["id"])
        window = next((v for k in ("context_length", "max_model_len", "context_window")
                       if isinstance(v := listed.get(k), int)), None)
        return LLMConfig(model=model, model_endpoint_type="anthropic" if row.provider_type == "anthropic" else "openai",
                         model_endpoint=row.base_url, provider_name=row.name, provider_category="byok",
                         context_window=window or context_window_for(model), handle=f"{row.name}/{model}")

    @staticmethod
    def _embedding(row: ProviderRow, listed: dict[str, Any]) -> EmbeddingConfig:
        model = str(listed["id"])
        return EmbeddingConfig(embedding_endpoint_type="openai", embedding_endpoint=row.base_url,
                               embedding_model=model, embedding_dim=embedding_dim_for(model),
                               handle=f"{row.name}/{model}")

    async def llm_models(self, actor: Actor) -> list[LLMConfig]:
        return [self._llm(row, m) for row, models in await self._models(actor) for m in models
                if "embed" not in str(m["id"])]

    async def embedding_models(self, actor: Actor) -> list[EmbeddingConfig]:
        return [self._embedding(row, m) for row, models in await self._models(actor) for m in models
                if "embed" in str(m["id"]) and row.provider_type != "anthropic"]

    async def resolve_llm(self, actor: Actor, handle: str) -> LLMConfig | None:
        name, sep, model = handle.partition("/")
        if not sep or not await self._rows(actor, name=name):
            return None
        return next((m for m in await self.llm_models(actor) if m.handle == handle), None)

    async def resolve_embedding(self, actor: Actor, handle: str) -> EmbeddingConfig | None:
        name, sep, _ = handle.partition("/")
        if not sep or not await self._rows(actor, name=name):
            return None
        return next((m for m in await self.embedding_models(actor) if m.handle == handle), None)


__all__ = ["ByokService", "MASK"]
