"""Memory block wire models (``Block``, ``CreateBlock``, ``BlockUpdate``)."""

from __future__ import annotations

from typing import Any

from pydantic import Field, field_validator, model_validator

from host.schemas.common import INT32_MAX, Name, RequestModel, ResponseModel

DEFAULT_BLOCK_LIMIT = 5000

DEFAULT_DESCRIPTIONS = {
    "human": (
        "The human block: Stores key details about the person you are conversing with, allowing for more "
        "personalized and friend-like conversation."
    ),
    "persona": (
        "The persona block: Stores details about your current persona, guiding how you behave and respond. "
        "This helps you to maintain consistency and personality in your interactions."
    ),
}


def check_limit(value: str, limit: int, label: str | None) -> None:
    if len(value) > limit:
        raise ValueError(
            f"Edit failed: exceeds {limit} character limit (requested {len(value)}) for block "
            f"{label or '(unlabelled)'}; shorten the value or raise the limit"
        )


class CreateBlock(RequestModel):
    value: str
    label: Name = Field(min_length=1)
    limit: int = Field(default=DEFAULT_BLOCK_LIMIT, ge=1, le=INT32_MAX)
    name: Name | None = None
    is_template: bool = False
    preserve_on_migration: bool | None = False
    read_only: bool = False
    description: str | None = None
    metadata: dict[str, Any] | None = Field(default_factory=dict)

    @model_validator(mode="after")
    def _within_limit(self) -> CreateBlock:
        check_limit(self.value, self.limit, self.label)
        return self


class BlockUpdate(RequestModel):
    value: str | None = None
    limit: int | None = Field(default=None, ge=1, le=INT32_MAX)

    @field_validator("limit")
    @classmethod
    def _limit_not_null(cls, v: int | None) -> int | None:
        if v is None:  # only when sent: leaving it out keeps the block's limit
            raise ValueError("limit cannot be null: give a positive integer, or leave it out to keep the limit")
        return v
    name: Name | None = None
    is_template: bool | None = None
    preserve_on_migration: bool | None = None
    label: Name | None = None
    read_only: bool | None = None
    description: str | None = None
    metadata: dict[str, Any] | None = None


class Block(ResponseModel):
    value: str
    limit: int = DEFAULT_BLOCK_LIMIT
    name: str | None = None
    is_template: bool = False
    preserve_on_migration: bool | None = False
    label: str | None = None
    read_only: bool = False
    description: str | None = None
    metadata: dict[str, Any] | None = Field(default_factory=dict)
    id: str
    created_by_id: str | None = None
    last_updated_by_id: str | None = None


class Memory(ResponseModel):
    blocks: list[Block]
    file_blocks: list[dict[str, Any]] = Field(default_factory=list)
    prompt_template: str = ""
