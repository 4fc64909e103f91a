"""Organizations, users and per-user API keys (``/v1/admin``), and resolving a presented key to an actor.

A key is ``ahk-`` + 43 url-safe characters (256 random bits); only its SHA-256 and its first 12 characters
are stored, so a leaked database gives no usable key. Revocation takes effect at the next request (keys
are looked up on every request, never cached).
"""

from __future__ import annotations

import hashlib
import re
import secrets
from contextlib import AbstractContextManager, nullcontext
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from host.domain.actor import Actor, acting_as
from host.errors import BadRequestError, ConflictError, ForbiddenError, NotFoundError
from host.ids import DEFAULT_ORG_ID, DEFAULT_USER_ID, new_id, utcnow
from host.persistence.db import Database
from host.persistence.models import (
    ApiKeyRow,
    Base,
    OrganizationRow,
    OrgOwned,
    OrgShared,
    ProviderRow,
    UserRow,
)
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


def owned_tables() -> list[Any]:
    """The tables whose rows belong to an organization (``OrgOwned`` and ``OrgShared``)."""
    return [m.local_table for m in Base.registry.mappers if issubclass(m.class_, OrgOwned | OrgShared)]


def acting_for_request(request: Any) -> AbstractContextManager[Any]:
    """Act as the actor the auth middleware resolved for ``request`` (a Starlette request, or None).

    For work that a request hands to a long-lived task which does not inherit its context (the MCP
    endpoint's sessions run in the session manager's task group)."""
    state = (getattr(request, "scope", None) or {}).get("state") or {}
    actor = state.get("actor")
    return acting_as(actor) if isinstance(actor, Actor) else nullcontext()


KEY_PREFIX = "ahk-"
_ID = re.compile(r"^(user|org)-[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")


def hash_key(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def is_user_key(token: str) -> bool:
    return token.startswith(KEY_PREFIX)


def check_id(kind: str, value: str) -> None:
    if not _ID.match(value) or not value.startswith(kind + "-"):
        raise BadRequestError(f"malformed {kind} id {value[:80]!r}: expected '{kind}-<uuid>'")


def _org(row: OrganizationRow) -> Organization:
    return Organization(id=row.id, name=row.name, created_at=row.created_at, privileged_tools=row.privileged_tools)


def _user(row: UserRow) -> User:
    return User(id=row.id, organization_id=row.organization_id, name=row.name, created_at=row.created_at,
                updated_at=row.updated_at)


def _key(row: ApiKeyRow, clear: str | None = None) -> ApiKey:
    return ApiKey(id=row.id, user_id=row.user_id, name=row.name, prefix=row.prefix, created_at=row.created_at,
                  revoked_at=row.revoked_at, key=clear)


class TenantService:
    def __init__(self, db: Database) -> None:
        self.db = db

    # ---- actors ----------------------------------------------------------------------------
    async def actor_for_key(self, token: str) -> Actor | None:
        """The user a live key belongs to, or None (unknown or revoked)."""
        async with self.db.session() as s:
            row = (await s.execute(select(UserRow).join(ApiKeyRow, ApiKeyRow.user_id == UserRow.id)
                                   .where(ApiKeyRow.key_hash == hash_key(token), ApiKeyRow.revoked_at.is_(None)))
                   ).scalar_one_or_none()
        return None if row is None else Actor(user_id=row.id, organization_id=row.organization_id, is_admin=False)

    async def admin_as(self, user_id: str) -> Actor:
        """The admin acting as ``user_id`` (Letta's ``user_id`` header)."""
        check_id("user", user_id)
        async with self.db.session() as s:
            row = await s.get(UserRow, user_id)
        if row is None:
            raise NotFoundError.for_id("User", user_id)
        return Actor(user_id=row.id, organization_id=row.organization_id, is_admin=True)

    # ---- organizations ---------------------------------------------------------------------
    async def list_orgs(self, after: str | None, limit: int | None) -> list[Organization]:
        async with self.db.session() as s:
            stmt = select(OrganizationRow).order_by(OrganizationRow.id)
            if after:
                stmt = stmt.where(OrganizationRow.id > after)
            rows = (await s.execute(stmt.limit(limit or 50))).scalars().all()
        return [_org(r) for r in rows]

    async def create_org(self, body: OrganizationCreate) -> Organization:
        row = OrganizationRow(id=new_id("org"), name=body.name or "organization",
                              privileged_tools=bool(body.privileged_tools))
        async with self.db.transaction() as s:
            s.add(row)
        return _org(row)

    async def _org_row(self, s: AsyncSession, org_id: str) -> OrganizationRow:
        check_id("org", org_id)
        row = await s.get(OrganizationRow, org_id)
        if row is None:
            raise NotFoundError.for_id("Organization", org_id)
        return row

    async def update_org(self, org_id: str, body: OrganizationUpdate) -> Organization:
        async with self.db.transaction() as s:
            row = await self._org_row(s, org_id)
            if body.name is not None:
                row.name = body.name
            if body.privileged_tools is not None:
                row.privileged_tools = body.privileged_tools
        return _org(row)

    async def delete_org(self, org_id: str) -> Organization:
        """Refuses (409) while the organization has users, providers or objects, and always for the default one."""
        async with self.db.transaction() as s:
            row = await self._org_row(s, org_id)
            if org_id == DEFAULT_ORG_ID:
                raise ConflictError("the default organization cannot be deleted")
            users = await s.scalar(select(func.count()).select_from(UserRow).where(UserRow.organization_id == org_id))
            providers = await s.scalar(select(func.count()).select_from(ProviderRow)
                                       .where(ProviderRow.organization_id == org_id))
            if users or providers:
                raise ConflictError(f"organization {org_id} still owns {users} user(s) and {providers} "
                                    "provider(s): delete them first")
            # Its objects (agents, blocks, tools...): never left without an organization.
            owned = [table.name for table in owned_tables() if await s.scalar(
                select(func.count()).select_from(table).where(table.c.organization_id == org_id))]
            if owned:
                raise ConflictError(f"organization {org_id} still owns {', '.join(sorted(owned))}: delete them "
                                    "first (as one of its users)")
            out = _org(row)
            await s.delete(row)
        return out

    # ---- users -----------------------------------------------------------------------------
    async def list_users(self, after: str | None, limit: int | None) -> list[User]:
        async with self.db.session() as s:
            stmt = select(UserRow).order_by(UserRow.id)
            if after:
                stmt = stmt.where(UserRow.id > after)
            rows = (await s.execute(stmt.limit(limit or 50))).scalars().all()
        return [_user(r) for r in rows]

    async def _user_row(self, s: AsyncSession, user_id: str) -> UserRow:
        check_id("user", user_id)
        row = await s.get(UserRow, user_id)
        if row is None:
            raise NotFoundError.for_id("User", user_id)
        return row

    async def create_user(self, body: UserCreate) -> User:
        async with self.db.transaction() as s:
            await self._org_row(s, body.organization_id)
            row = UserRow(id=new_id("user"), name=body.name, organization_id=body.organization_id)
            s.add(row)
        return _user(row)

    async def update_user(self, body: UserUpdate) -> User:
        async with self.db.transaction() as s:
            row = await self._user_row(s, body.id)
            if body.organization_id is not None:
                await self._org_row(s, body.organization_id)
                row.organization_id = body.organization_id
            if body.name is not None:
                row.name = body.name
            row.updated_at = utcnow()
        return _user(row)

    async def delete_user(self, user_id: str, actor: Actor) -> User:
        """The default user is the server password's own identity: it (the last admin) cannot be deleted,
        and no one deletes the user they are acting as."""
        async with self.db.transaction() as s:
            row = await self._user_row(s, user_id)
            if user_id == DEFAULT_USER_ID:
                raise ConflictError("the default user is the admin's own identity and cannot be deleted")
            if user_id == actor.user_id:
                raise ConflictError("you cannot delete the user you are acting as")
            out = _user(row)
            for key in (await s.execute(select(ApiKeyRow).where(ApiKeyRow.user_id == user_id))).scalars():
                await s.delete(key)
            await s.flush()
            await s.delete(row)
        return out

    # ---- keys ------------------------------------------------------------------------------
    async def create_key(self, user_id: str, body: ApiKeyCreate) -> ApiKey:
        token = KEY_PREFIX + secrets.token_urlsafe(32)
        async with self.db.transaction() as s:
            await self._user_row(s, user_id)
            row = ApiKeyRow(id=new_id("apikey"), user_id=user_id, name=body.name, prefix=token[:12],
                            key_hash=hash_key(token), created_at=utcnow())
            s.add(row)
        return _key(row, clear=token)

    async def list_keys(self, user_id: str) -> list[ApiKey]:
        async with self.db.session() as s:
            await self._user_row(s, user_id)
            rows = (await s.execute(select(ApiKeyRow).where(ApiKeyRow.user_id == user_id)
                                    .order_by(ApiKeyRow.created_at, ApiKeyRow.id))).scalars().all()
        return [_key(r) for r in rows]

    async def revoke_key(self, user_id: str, key_id: str) -> ApiKey:
        async with self.db.transaction() as s:
            await self._user_row(s, user_id)
            row = await s.get(ApiKeyRow, key_id)
            if row is None or row.user_id != user_id:
                raise NotFoundError.for_id("API key", key_id)
            if row.revoked_at is None:
                row.revoked_at = utcnow()
        return _key(row)


def require_admin(actor: Actor) -> None:
    if not actor.is_admin:
        raise ForbiddenError("this route needs the server password (admin); a user key cannot use it")


__all__ = ["KEY_PREFIX", "TenantService", "hash_key", "is_user_key", "require_admin"]
