"""Identity wire models."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field

from host.schemas.common import Name, RequestModel, ResponseModel, Short

IdentityType = Literal["org", "user", "other"]


class IdentityProperty(RequestModel):
    key: Name = Field(min_length=1)
    value: str | int | float | bool | dict[str, Any]
    type: Literal["string", "number", "boolean", "json"]


class IdentityCreate(RequestModel):
    identifier_key: Name = Field(min_length=1)
    name: Name
    identity_type: IdentityType
    project_id: Short | None = None
    agent_ids: list[str] | None = None
    block_ids: list[str] | None = None
    properties: list[IdentityProperty] | None = None


class IdentityUpdate(RequestModel):
    identifier_key: Name | None = None
    name: Name | None = None
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
