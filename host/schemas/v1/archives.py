"""Archives (1.x): a named store of passages, attachable to agents."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from host.domain.actor import acting_organization
from host.ids import DEFAULT_USER_ID


class _In(BaseModel):
    model_config = ConfigDict(extra="ignore")


class ArchiveCreate(_In):
    name: str = Field(min_length=1, max_length=256)
    description: str | None = None
    embedding: str | None = None
    embedding_config: dict[str, Any] | None = None
    embedding_chunk_size: int | None = Field(default=None, ge=16, le=8192)


class ArchiveUpdate(_In):
    name: str | None = Field(default=None, min_length=1, max_length=256)
    description: str | None = None


class ArchivePassageCreate(_In):
    text: str = Field(min_length=1)
    metadata: dict[str, Any] | None = None
    tags: list[str] | None = None
    created_at: datetime | None = None


class ArchivePassageBatch(_In):
    passages: list[ArchivePassageCreate] = Field(min_length=1, max_length=1000)


class PassageSearch(_In):
    query: str | None = None
    agent_id: str | None = None
    archive_id: str | None = None
    tags: list[str] | None = None
    tag_match_mode: Literal["any", "all"] = "any"
    limit: int = Field(default=50, ge=1, le=1000)
    start_date: datetime | None = None
    end_date: datetime | None = None


class Archive(BaseModel):
    id: str
    name: str
    description: str | None = None
    organization_id: str = Field(default_factory=acting_organization)
    vector_db_provider: str = "native"
    embedding_config: dict[str, Any] | None = None
    metadata: dict[str, Any] | None = None
    created_by_id: str = DEFAULT_USER_ID
    last_updated_by_id: str = DEFAULT_USER_ID
    created_at: datetime
    updated_at: datetime | None = None
