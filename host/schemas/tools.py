"""Tool wire models (``Tool``, ``ToolCreate``, ``ToolUpdate``, ``ToolRunFromSource``)."""

from __future__ import annotations

from typing import Any

from pydantic import Field

from host.schemas.common import INT32_MAX, RequestModel, ResponseModel


class PipRequirement(RequestModel):
    name: str = Field(min_length=1)
    version: str | None = None


class ToolCreate(RequestModel):
    description: str | None = None
    tags: list[str] = Field(default_factory=list)
    source_code: str
    source_type: str = "python"
    json_schema: dict[str, Any] | None = None
    args_json_schema: dict[str, Any] | None = None
    return_char_limit: int = Field(default=6000, ge=1, le=INT32_MAX)
    pip_requirements: list[PipRequirement] | None = None


class ToolUpdate(RequestModel):
    description: str | None = None
    tags: list[str] | None = None
    source_code: str | None = None
    source_type: str | None = None
    json_schema: dict[str, Any] | None = None
    args_json_schema: dict[str, Any] | None = None
    return_char_limit: int | None = Field(default=None, ge=1, le=INT32_MAX)
    pip_requirements: list[PipRequirement] | None = None


class Tool(ResponseModel):
    id: str
    tool_type: str = "custom"
    description: str | None = None
    source_type: str | None = "python"
    name: str | None = None
    tags: list[str] = Field(default_factory=list)
    source_code: str | None = None
    json_schema: dict[str, Any] | None = None
    args_json_schema: dict[str, Any] | None = None
    return_char_limit: int = 6000
    pip_requirements: list[dict[str, Any]] | None = None
    created_by_id: str | None = None
    last_updated_by_id: str | None = None
    metadata_: dict[str, Any] | None = Field(default_factory=dict)


class ToolRunFromSource(RequestModel):
    source_code: str
    args: dict[str, Any]
    env_vars: dict[str, str] = Field(default_factory=dict)
    name: str | None = None
    source_type: str | None = None
    args_json_schema: dict[str, Any] | None = None
    json_schema: dict[str, Any] | None = None
    pip_requirements: list[PipRequirement] | None = None
