"""Small Letta 0.8.17 routes: ``POST /v1/tools/generate-schema``, ``POST /v1/auth``,
``GET /v1/embeddings/total_storage_size``."""

from __future__ import annotations

import hmac
from typing import Annotated, Any

from fastapi import Depends, Header
from pydantic import Field

from host.api.routing import SlashRouter, services
from host.errors import AuthError
from host.ids import DEFAULT_USER_ID
from host.schemas.common import RequestModel
from host.services import Services
from host.services.embeddings_size import total_embedding_bytes, unit_bytes
from host.services.tools import schema_for

router = SlashRouter(tags=["compat"])
Svc = Annotated[Services, Depends(services)]


class CodeInput(RequestModel):
    code: str = Field(description="Python source code to parse for JSON schema")


class AuthRequest(RequestModel):
    password: str = ""


@router.post("/v1/tools/generate-schema", operation_id="generate_json_schema")
async def generate_json_schema(body: CodeInput) -> dict[str, Any]:
    """The JSON schema tool creation would store for this source (same 422s: no docstring, undocumented
    parameter, source that does not parse, name too long)."""
    _name, _description, json_schema = schema_for(body.code, None, None)
    return json_schema


@router.post("/v1/auth", operation_id="authenticate_user_v1_auth_post")
async def authenticate(body: AuthRequest, svc: Svc) -> dict[str, Any]:
    """Letta's login placeholder: the server password makes you the admin; without ``SECURE`` every caller
    is the one default user (not an admin). A wrong password is a 401."""
    password = svc.settings.server_password
    if password is None:
        return {"uuid": _user_uuid(), "is_admin": False}
    if not hmac.compare_digest(body.password.encode(), password.encode()):
        raise AuthError("Incorrect credentials")
    return {"uuid": _user_uuid(), "is_admin": True}


@router.get("/v1/embeddings/total_storage_size", operation_id="get_total_storage_size")
async def total_storage_size(svc: Svc, storage_unit: Annotated[str | None, Header(alias="storage-unit")] = None
                             ) -> float:
    """Bytes of all stored embeddings (dimension x 4 per passage) in ``storage-unit`` (B/KB/MB/GB/TB, GB)."""
    divisor = unit_bytes(storage_unit)
    return await total_embedding_bytes(svc.db) / divisor


def _user_uuid() -> str:
    return DEFAULT_USER_ID.removeprefix("user-")
