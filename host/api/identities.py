"""``/v1/identities`` and ``/v1/tags``."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Body, Depends

from host.api.routing import SlashRouter, services
from host.schemas.identities import Identity, IdentityCreate, IdentityProperty, IdentityUpdate
from host.services import Services

router = SlashRouter(tags=["identities"])
Svc = Annotated[Services, Depends(services)]


@router.get("/v1/identities/", response_model=list[Identity], operation_id="list_identities")
async def list_identities(svc: Svc, name: str | None = None, project_id: str | None = None,
                          identifier_key: str | None = None, identity_type: str | None = None,
                          before: str | None = None, after: str | None = None, limit: int | None = 50) -> list[Identity]:
    return await svc.identities.list(name=name, project_id=project_id, identifier_key=identifier_key,
                                     identity_type=identity_type, before=before, after=after, limit=limit)


@router.post("/v1/identities/", response_model=Identity, operation_id="create_identity")
async def create_identity(body: IdentityCreate, svc: Svc) -> Identity:
    return await svc.identities.create(body)


@router.put("/v1/identities/", response_model=Identity, operation_id="upsert_identity")
async def upsert_identity(body: IdentityCreate, svc: Svc) -> Identity:
    return await svc.identities.upsert(body)


@router.get("/v1/identities/count", response_model=int, operation_id="count_identities")
async def count_identities(svc: Svc) -> int:
    return await svc.identities.count()


@router.get("/v1/identities/{identity_id}", response_model=Identity, operation_id="retrieve_identity")
async def retrieve_identity(identity_id: str, svc: Svc) -> Identity:
    return await svc.identities.get(identity_id)


@router.patch("/v1/identities/{identity_id}", response_model=Identity, operation_id="update_identity")
async def update_identity(identity_id: str, body: IdentityUpdate, svc: Svc) -> Identity:
    return await svc.identities.modify(identity_id, body)


@router.put("/v1/identities/{identity_id}/properties", operation_id="upsert_identity_properties")
async def upsert_properties(identity_id: str, svc: Svc,
                            body: Annotated[list[IdentityProperty], Body()]) -> Any:
    await svc.identities.set_properties(identity_id, body)
    return None


@router.delete("/v1/identities/{identity_id}", operation_id="delete_identity")
async def delete_identity(identity_id: str, svc: Svc) -> Any:
    await svc.identities.delete(identity_id)
    return None


@router.get("/v1/tags/", response_model=list[str], operation_id="list_tags")
async def list_tags(svc: Svc, after: str | None = None, limit: int | None = 50,
                    query_text: str | None = None) -> list[str]:
    return await svc.identities.tags(query_text=query_text, after=after, limit=limit)
