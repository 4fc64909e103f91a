"""Identity wire models."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field

from host.schemas.common import RequestModel, ResponseModel

IdentityType = Literal["org", "user", "other"]


class IdentityProperty(RequestModel):
    key: str = Field(min_length=1)
    value: str | int | float | bool | dict[str, Any]
    type: Literal["string", "number", "boolean", "json"]


class IdentityCreate(RequestModel):
    identifier_key: str = Field(min_length=1)
    name: str
    identity_type: IdentityType
    project_id: str | None = None
    agent_ids: list[str] | None = None
    block_ids: list[str] | None = None
    properties: list[IdentityProperty] | None = None


class IdentityUpdate(RequestModel):
    identifier_key: str | None = None
    name: str | None = None
    identity_type: IdentityType | None = None
    agent_ids: list[str] | None = None
    block_ids: list[str] | None = None
    properties: list[IdentityProperty] | None = None


class Identity(ResponseModel):
    id: str
    identifier_key: str
    name: str
    identity_type: str
    project_id: str | None = None
    agent_ids: list[str]
    block_ids: list[str]
    organization_id: str | None = None
    properties: list[dict[str, Any]] = Field(default_factory=list)
