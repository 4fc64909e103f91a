"""1.x MCP server shapes: ``{server_name, config: {mcp_server_type, ...}}`` in, and
``{id, server_name, mcp_server_type, command|server_url, ...}`` out (secrets redacted as in 0.8's routes).
They translate to and from 0.8's ``ServerConfigIn`` / ``ServerUpdateIn`` so both generations share one
validation and one pool."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from host.schemas.mcp_servers import ServerConfigIn, ServerUpdateIn


class ServerConfigV1(BaseModel):
    model_config = ConfigDict(extra="forbid")

    mcp_server_type: str | None = None
    command: str | None = None
    args: list[str] | None = None
    env: dict[str, str | None] | None = None
    server_url: str | None = None
    auth_header: str | None = None
    auth_token: str | None = None
    custom_headers: dict[str, str] | None = None

    def fields(self) -> dict[str, Any]:
        return {k: v for k, v in self.model_dump(exclude={"mcp_server_type"}).items() if v is not None}


class CreateMcpServerV1(BaseModel):
    model_config = ConfigDict(extra="forbid")

    server_name: str = Field(min_length=1, max_length=256)
    config: ServerConfigV1

    def to_legacy(self) -> ServerConfigIn:
        return ServerConfigIn.model_validate({**self.config.fields(), "server_name": self.server_name,
                                              "type": self.config.mcp_server_type})


class UpdateMcpServerV1(BaseModel):
    model_config = ConfigDict(extra="forbid")

    server_name: str | None = None
    config: ServerConfigV1 | None = None

    def to_legacy(self) -> ServerUpdateIn:
        return ServerUpdateIn.model_validate({**(self.config.fields() if self.config else {}),
                                              "server_name": self.server_name})


def server_v1(server_id: str, legacy: dict[str, Any]) -> dict[str, Any]:
    """1.x's shape from 0.8's ``server_out`` (keeping agenthost's live ``state``/``last_error``)."""
    kind = legacy.get("type") or "stdio"
    out: dict[str, Any] = {"mcp_server_type": kind, "id": server_id, "server_name": legacy["server_name"]}
    if kind == "stdio":
        out.update(command=legacy.get("command"), args=legacy.get("args") or [], env=legacy.get("env") or None)
    else:
        out.update(server_url=legacy.get("server_url"), auth_header=legacy.get("auth_header"),
                   auth_token=legacy.get("auth_token"), custom_headers=legacy.get("custom_headers"))
    out.update(state=legacy.get("state"), last_error=legacy.get("last_error"), source=legacy.get("source"))
    return out
