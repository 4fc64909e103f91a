"""Wire models shared by the REST schemas: Letta's field names, unknown request fields rejected."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, field_serializer

from host.ids import DEFAULT_USER_ID

# Strings as long as the database columns they are stored in (Postgres enforces the length; a longer value
# is a 422 naming the field here, not a database error).
Name = Annotated[str, Field(max_length=256)]  # names, labels, tags, keys
Ref = Annotated[str, Field(max_length=128)]  # client-chosen references: otid, sender_id, tool_call_id
Short = Annotated[str, Field(max_length=64)]  # ids, types, time zones
INT32_MAX = 2**31 - 1  # integer columns (block limits, tools' return_char_limit)


class RequestModel(BaseModel):
    """A request body: unknown fields are rejected with 422 so typos never pass silently."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)


class ResponseModel(BaseModel):
    model_config = ConfigDict(populate_by_name=True, from_attributes=True)


class Audited(ResponseModel):
    created_by_id: str | None = DEFAULT_USER_ID
    last_updated_by_id: str | None = DEFAULT_USER_ID
    created_at: datetime | None = None
    updated_at: datetime | None = None

    @field_serializer("created_at", "updated_at", when_used="json-unless-none")
    def _ts(self, value: datetime) -> str:
        return value.replace(microsecond=0).isoformat()


def dump(model: BaseModel) -> dict[str, Any]:
    return model.model_dump(mode="json", by_alias=True)
