"""``/v1/models``, ``/v1/models/embedding`` and ``/v1/health``."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Depends

from host.api.routing import SlashRouter, actor, services
from host.domain.actor import Actor
from host.services import Services
from host.version import __version__

router = SlashRouter(tags=["models"])
Svc = Annotated[Services, Depends(services)]
Who = Annotated[Actor, Depends(actor)]


@router.get("/v1/health/", operation_id="health_check")
async def health() -> dict[str, str]:
    return {"version": __version__, "status": "ok"}


@router.get("/v1/models/", operation_id="list_models")
async def list_models(svc: Svc, who: Who, provider_category: str | None = None, provider_name: str | None = None,
                      provider_type: str | None = None) -> list[dict[str, Any]]:
    models = [*await svc.registry.list_llm_models(), *await svc.byok.llm_models(who)]
    out = [m.model_dump(mode="json") for m in models]
    if provider_name:
        out = [m for m in out if m.get("provider_name") == provider_name]
    return out


@router.get("/v1/models/embedding", operation_id="list_embedding_models")
async def list_embedding_models(svc: Svc, who: Who) -> list[dict[str, Any]]:
    models = [*await svc.registry.list_embedding_models(), *await svc.byok.embedding_models(who)]
    return [m.model_dump(mode="json") for m in models]
