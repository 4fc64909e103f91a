"""``/v1/admin/orgs`` and ``/v1/admin/users`` (Letta's shapes) and, beyond Letta, per-user API keys under
``/v1/admin/users/{user_id}/keys``. Only the admin (the server password, or anyone on an open server) may
use them: a user key gets a 403."""

from __future__ import annotations

from typing import Annotated

from fastapi import Body, Depends, Query

from host.api.routing import SlashRouter, actor, services
from host.domain.actor import Actor
from host.schemas.tenants import (
    ApiKey,
    ApiKeyCreate,
    Organization,
    OrganizationCreate,
    OrganizationUpdate,
    User,
    UserCreate,
    UserUpdate,
)
from host.services import Services
from host.services.tenants import TenantService, require_admin

router = SlashRouter(tags=["admin"])
Svc = Annotated[Services, Depends(services)]


async def admin(svc: Svc, who: Annotated[Actor, Depends(actor)]) -> TenantService:
    require_admin(who)
    return svc.tenants


Admin = Annotated[TenantService, Depends(admin)]
Who = Annotated[Actor, Depends(actor)]
Limit = Annotated[int | None, Query(ge=1, le=1000)]


@router.get("/v1/admin/orgs/", response_model=list[Organization], operation_id="list_orgs")
async def list_orgs(t: Admin, after: str | None = None, limit: Limit = 50) -> list[Organization]:
    return await t.list_orgs(after, limit)


@router.post("/v1/admin/orgs/", response_model=Organization, operation_id="create_organization")
async def create_org(t: Admin, body: Annotated[OrganizationCreate, Body()]) -> Organization:
    return await t.create_org(body)


@router.patch("/v1/admin/orgs/", response_model=Organization, operation_id="update_organization")
async def update_org(t: Admin, org_id: str, body: Annotated[OrganizationUpdate, Body()]) -> Organization:
    return await t.update_org(org_id, body)


@router.delete("/v1/admin/orgs/", response_model=Organization, operation_id="delete_organization_by_id")
async def delete_org(t: Admin, org_id: str) -> Organization:
    return await t.delete_org(org_id)


@router.get("/v1/admin/users/", response_model=list[User], operation_id="list_users")
async def list_users(t: Admin, after: str | None = None, limit: Limit = 50) -> list[User]:
    return await t.list_users(after, limit)


@router.post("/v1/admin/users/", response_model=User, operation_id="create_user")
async def create_user(t: Admin, body: UserCreate) -> User:
    return await t.create_user(body)


@router.put("/v1/admin/users/", response_model=User, operation_id="update_user")
async def update_user(t: Admin, body: UserUpdate) -> User:
    return await t.update_user(body)


@router.patch("/v1/admin/users/", response_model=User, operation_id="modify_user")
async def modify_user(t: Admin, body: UserUpdate) -> User:
    return await t.update_user(body)


@router.delete("/v1/admin/users/", response_model=User, operation_id="delete_user")
async def delete_user(t: Admin, who: Who, user_id: str) -> User:
    return await t.delete_user(user_id, who)


# ---- beyond Letta: per-user API keys -----------------------------------------------------------
@router.post("/v1/admin/users/{user_id}/keys", response_model=ApiKey, operation_id="create_user_api_key")
async def create_key(t: Admin, user_id: str, body: Annotated[ApiKeyCreate | None, Body()] = None) -> ApiKey:
    """The key itself is in this answer only (``key``); it is stored hashed."""
    return await t.create_key(user_id, body or ApiKeyCreate())


@router.get("/v1/admin/users/{user_id}/keys", response_model=list[ApiKey], operation_id="list_user_api_keys")
async def list_keys(t: Admin, user_id: str) -> list[ApiKey]:
    return await t.list_keys(user_id)


@router.delete("/v1/admin/users/{user_id}/keys/{key_id}", response_model=ApiKey, operation_id="revoke_user_api_key")
async def revoke_key(t: Admin, user_id: str, key_id: str) -> ApiKey:
    return await t.revoke_key(user_id, key_id)
