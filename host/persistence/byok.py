"""The credentials of an organization's own provider, for one model call (bring-your-own keys).

An agent whose model is ``<provider name>/<model>`` of a BYOK provider has ``provider_category="byok"`` in
its ``llm_config``; the key is never in that config: it is read (and decrypted) here at each call, so a
changed or deleted provider takes effect at once.
"""

from __future__ import annotations

from dataclasses import replace

from sqlalchemy import select

from host.llm.providers import EmbeddingConfig, LLMConfig, ProviderSettings
from host.persistence.db import Database
from host.persistence.models import ProviderRow
from host.persistence.secret_box import SecretBox
from host.persistence.tenancy import scope_org


class ByokMissingError(Exception):
    """The BYOK provider an agent's model names no longer exists."""


async def provider_row(db: Database, name: str, endpoint: str | None, *,
                       organization_id: str | None = None) -> ProviderRow | None:
    """`organization_id`'s provider of that name; by default the calling organization's (the system: any)."""
    async with db.session() as s:
        stmt = select(ProviderRow).where(ProviderRow.name == name).order_by(ProviderRow.created_at)
        if (org := organization_id or scope_org()) is not None:
            stmt = stmt.where(ProviderRow.organization_id == org)
        rows = list((await s.execute(stmt)).scalars())
    same = [r for r in rows if endpoint is None or (r.base_url or "").rstrip("/") == endpoint.rstrip("/")]
    return (same or [None])[0]


def with_key(base: ProviderSettings, endpoint_type: str, key: str | None) -> ProviderSettings:
    if endpoint_type == "anthropic":
        return replace(base, anthropic_api_key=key)
    return replace(base, openai_api_key=key)


async def settings_for_llm(db: Database, box: SecretBox | None, config: LLMConfig,
                           base: ProviderSettings) -> ProviderSettings:
    if config.provider_category != "byok" or box is None or not config.provider_name:
        return base
    row = await provider_row(db, config.provider_name, config.model_endpoint)
    if row is None:
        raise ByokMissingError(f"provider {config.provider_name!r} of model {config.handle or config.model!r} "
                               "no longer exists")
    return with_key(base, config.model_endpoint_type, box.decrypt(row.api_key_enc))


async def settings_for_embedding(db: Database, box: SecretBox | None, config: EmbeddingConfig,
                                 base: ProviderSettings, *, organization_id: str | None = None) -> ProviderSettings:
    """The settings an embedding call uses: with the key of the organization's own provider when the handle
    names one (`organization_id`: the owner of what is embedded, for a worker acting for nobody in particular;
    by default the caller's), else ``base``."""
    prefix, sep, _ = (config.handle or "").partition("/")
    if box is None or not sep:
        return base
    row = await provider_row(db, prefix, config.embedding_endpoint, organization_id=organization_id)
    if row is None:
        return base
    return with_key(base, config.embedding_endpoint_type, box.decrypt(row.api_key_enc))


__all__ = ["ByokMissingError", "provider_row", "settings_for_embedding", "settings_for_llm", "with_key"]
