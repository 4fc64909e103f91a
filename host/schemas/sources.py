"""Data sources, their files and ingestion jobs (Letta 0.8.17's Source, SourceCreate, FileMetadata, Job)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import Field, field_serializer

from host.domain.actor import acting_organization
from host.ids import DEFAULT_USER_ID
from host.schemas.common import Audited, RequestModel, ResponseModel

FileStatus = Literal["pending", "parsing", "embedding", "completed", "error"]
JobStatus = Literal["created", "running", "completed", "failed", "pending", "cancelled", "expired"]
JobType = Literal["job", "run", "batch"]
DuplicateFileHandling = Literal["skip", "error", "suffix"]


class SourceCreate(RequestModel):
    name: str = Field(min_length=1, max_length=256)
    description: str | None = None
    instructions: str | None = None
    metadata: dict[str, Any] | None = None
    embedding: str | None = None
    embedding_chunk_size: int | None = Field(default=None, ge=16, le=8192)
    embedding_config: dict[str, Any] | None = None


class SourceUpdate(RequestModel):
    name: str | None = Field(default=None, min_length=1, max_length=256)
    description: str | None = None
    instructions: str | None = None
    metadata: dict[str, Any] | None = None
    embedding_config: dict[str, Any] | None = None


class Source(Audited):
    name: str
    description: str | None = None
    instructions: str | None = None
    metadata: dict[str, Any] | None = None
    id: str
    embedding_config: dict[str, Any]
    organization_id: str | None = Field(default_factory=acting_organization)


class FileMetadata(ResponseModel):
    source_id: str
    file_name: str | None = None
    original_file_name: str | None = None
    file_path: str | None = None
    file_type: str | None = None
    file_size: int | None = None
    file_creation_date: str | None = None
    file_last_modified_date: str | None = None
    processing_status: FileStatus = "pending"
    error_message: str | None = None
    total_chunks: int | None = None
    chunks_embedded: int | None = None
    content: str | None = None
    id: str
    organization_id: str | None = Field(default_factory=acting_organization)
    created_at: datetime | None = None
    updated_at: datetime | None = None
    is_deleted: bool = False
    # Not in Letta's schema (clients ignore it): the ingestion job, for GET /v1/jobs/{job_id}.
    job_id: str | None = None

    @field_serializer("created_at", "updated_at", when_used="json-unless-none")
    def _ts(self, value: datetime) -> str:
        return value.replace(microsecond=0).isoformat()


class Job(Audited):
    status: JobStatus = "created"
    completed_at: datetime | None = None
    metadata: dict[str, Any] | None = None
    job_type: JobType = "job"
    callback_url: str | None = None
    callback_sent_at: datetime | None = None
    callback_status_code: int | None = None
    callback_error: str | None = None
    id: str
    user_id: str | None = DEFAULT_USER_ID
    # Not in Letta's schema: fraction of chunks embedded (0..1), and the error of a failed job.
    progress: float | None = None
    error: str | None = None

    @field_serializer("completed_at", "callback_sent_at", when_used="json-unless-none")
    def _done(self, value: datetime) -> str:
        return value.replace(microsecond=0).isoformat()
