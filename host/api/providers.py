"""``/v1/providers``: an organization's own providers (bring-your-own keys), keys never answered in clear."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Body, Depends, Query

from host.api.routing import SlashRouter, actor, services
from host.domain.actor import Actor
from host.schemas.tenants import Provider, ProviderCheck, ProviderCreate, ProviderUpdate
from host.services import Services

router = SlashRouter(tags=["providers"])
Svc = Annotated[Services, Depends(services)]
Who = Annotated[Actor, Depends(actor)]


@router.get("/v1/providers/", response_model=list[Provider], operation_id="list_providers")
async def list_providers(svc: Svc, who: Who, name: str | None = None, provider_type: str | None = None,
                         after: str | None = None,
                         limit: Annotated[int | None, Query(ge=1, le=1000)] = 50) -> list[Provider]:
    return await svc.byok.list(who, name=name, provider_type=provider_type, after=after, limit=limit)


@router.post("/v1/providers/", response_model=Provider, operation_id="create_provider")
async def create_provider(svc: Svc, who: Who, body: ProviderCreate) -> Provider:
    return await svc.byok.create(who, body)


@router.get("/v1/providers/check", operation_id="check_provider")
async def check_provider(svc: Svc, body: Annotated[ProviderCheck, Body()]) -> Any:
    """Letta 0.8 sends the key as a JSON body on GET; the POST form below is the same check."""
    return await svc.byok.check(body)


@router.post("/v1/providers/check", operation_id="check_provider_post")
async def check_provider_post(svc: Svc, body: ProviderCheck) -> Any:
    return await svc.byok.check(body)


@router.get("/v1/providers/{provider_id}", response_model=Provider, operation_id="retrieve_provider")
async def retrieve_provider(svc: Svc, who: Who, provider_id: str) -> Provider:
    return await svc.byok.retrieve(who, provider_id)


@router.post("/v1/providers/{provider_id}/check", operation_id="check_existing_provider")
async def check_existing_provider(svc: Svc, who: Who, provider_id: str) -> Any:
    return await svc.byok.check_existing(who, provider_id)


@router.patch("/v1/providers/{provider_id}/refresh", response_model=Provider, operation_id="refresh_provider_models")
async def refresh_provider_models(svc: Svc, who: Who, provider_id: str) -> Provider:
    return await svc.byok.refresh(who, provider_id)


@router.patch("/v1/providers/{provider_id}", response_model=Provider, operation_id="modify_provider")
async def modify_provider(svc: Svc, who: Who, provider_id: str, body: ProviderUpdate) -> Provider:
    return await svc.byok.modify(who, provider_id, body)


@router.delete("/v1/providers/{provider_id}", operation_id="delete_provider")
async def delete_provider(svc: Svc, who: Who, provider_id: str) -> Any:
    await svc.byok.delete(who, provider_id)
    return None
