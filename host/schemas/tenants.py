"""Organizations, users, per-user API keys and bring-your-own providers (Letta 0.8's shapes)."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import Field

from host.schemas.common import Name, RequestModel, ResponseModel, Short

ProviderType = Literal["anthropic", "google_ai", "google_vertex", "openai", "letta", "deepseek", "lmstudio_openai",
                       "xai", "mistral", "ollama", "groq", "together", "azure", "vllm", "bedrock"]
Secret = str  # bounded below by Field(max_length)


class Organization(ResponseModel):
    id: str
    name: str
    created_at: datetime | None = None
    privileged_tools: bool = False


class OrganizationCreate(RequestModel):
    name: Name | None = None
    privileged_tools: bool | None = False


class OrganizationUpdate(RequestModel):
    name: Name | None = None
    privileged_tools: bool | None = None


class User(ResponseModel):
    id: str
    organization_id: str | None = None
    name: str
    created_at: datetime | None = None
    updated_at: datetime | None = None
    is_deleted: bool = False


class UserCreate(RequestModel):
    name: Name = Field(min_length=1)
    organization_id: Short


class UserUpdate(RequestModel):
    id: Short
    name: Name | None = None
    organization_id: Short | None = None


class ApiKeyCreate(RequestModel):
    name: Name | None = None


class ApiKey(ResponseModel):
    """A key as listed: its prefix only. ``key`` is set once, in the answer to its creation."""

    id: str
    user_id: str
    name: str | None = None
    prefix: str
    created_at: datetime
    revoked_at: datetime | None = None
    key: str | None = None


class Provider(ResponseModel):
    id: str
    name: str
    provider_type: str
    provider_category: Literal["base", "byok"] = "byok"
    api_key: str | None = None  # always masked
    base_url: str | None = None
    access_key: str | None = None  # always masked
    region: str | None = None
    organization_id: str | None = None
    updated_at: datetime | None = None


class ProviderCreate(RequestModel):
    name: Name = Field(min_length=1, pattern=r"^[^/\s]+$")
    provider_type: ProviderType
    api_key: str = Field(max_length=4096)
    access_key: str | None = Field(default=None, max_length=4096)
    region: Short | None = None
    base_url: str | None = Field(default=None, max_length=2048)  # beyond 0.8: an OpenAI-compatible endpoint


class ProviderUpdate(RequestModel):
    api_key: str = Field(max_length=4096)
    access_key: str | None = Field(default=None, max_length=4096)
    region: Short | None = None
    base_url: str | None = Field(default=None, max_length=2048)


class ProviderCheck(RequestModel):
    provider_type: ProviderType
    api_key: str = Field(max_length=4096)
    access_key: str | None = Field(default=None, max_length=4096)
    region: Short | None = None
    base_url: str | None = Field(default=None, max_length=2048)
