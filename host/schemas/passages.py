"""Archival memory (passage) wire models."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import Field

from host.domain.actor import acting_organization
from host.schemas.common import Audited, RequestModel


class CreateArchivalMemory(RequestModel):
    text: str = Field(min_length=1)
    tags: list[str] | None = None


class PassageUpdate(RequestModel):
    id: str | None = None
    text: str | None = None
    metadata: dict[str, Any] | None = None
    tags: list[str] | None = None
    embedding: list[float] | None = None
    embedding_config: dict[str, Any] | None = None
    agent_id: str | None = None
    source_id: str | None = None
    file_id: str | None = None
    file_name: str | None = None
    created_by_id: str | None = None
    last_updated_by_id: str | None = None
    created_at: datetime | None = None
    updated_at: datetime | None = None
    is_deleted: bool | None = None
    organization_id: str | None = None


class Passage(Audited):
    is_deleted: bool = False
    organization_id: str | None = Field(default_factory=acting_organization)
    agent_id: str | None = None
    source_id: str | None = None
    file_id: str | None = None
    file_name: str | None = None
    metadata: dict[str, Any] | None = Field(default_factory=dict)
    tags: list[str] | None = None
    id: str
    text: str
    embedding: list[float] | None = None
    embedding_config: dict[str, Any] | None = None
