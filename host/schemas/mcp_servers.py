"""Letta 0.8's MCP server wire shapes, and their translation to and from ``mcp_client.McpServerConfig``.

Request bodies (``PUT``/``POST test``: ``StdioServerConfig`` | ``SSEServerConfig`` |
``StreamableHTTPServerConfig``; ``PATCH``: ``UpdateStdioMCPServer`` | ``UpdateSSEMCPServer`` |
``UpdateStreamableHTTPMCPServer``) are each one permissive model here, told apart by ``type`` or
by which fields are present. agenthost extensions: ``timeout`` (seconds per tools/call),
``disabled``, ``allowed_tools``, ``disabled_tools``, ``cwd``.

Responses never carry a secret: header values, env values, URL credentials and secret-looking
arguments come back as ``"****"`` (``mcp_client.redacted``). Sending ``"****"`` back in a PATCH
keeps the stored value: env and header values, ``auth_token``, arguments, the URL's password and query
values (``mcp_client.unmask``). ``last_error`` arrives redacted from ``mcp_client`` (docs/security.md).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from host.errors import InvalidRequestError
from mcp_client import McpServerConfig, McpTool, ServerStatus, redacted, unmask

REDACTED = "****"
AUTH = "Authorization"


class ServerConfigIn(BaseModel):
    """A server as Letta's SDK sends it (any of the three transports)."""

    model_config = ConfigDict(extra="ignore")

    server_name: str = Field(min_length=1, max_length=256)
    type: str | None = None
    command: str | None = None
    args: list[str] = Field(default_factory=list)
    env: dict[str, str | None] | None = None
    cwd: str | None = None
    server_url: str | None = None
    auth_header: str | None = None
    auth_token: str | None = None
    custom_headers: dict[str, str] | None = None
    timeout: float | None = Field(default=None, gt=0)
    disabled: bool = False
    allowed_tools: list[str] | None = None
    disabled_tools: list[str] = Field(default_factory=list)

    def to_config(self) -> McpServerConfig:
        fields: dict[str, Any] = {
            "name": self.server_name, "command": self.command, "args": self.args, "cwd": self.cwd,
            "env": {k: v for k, v in (self.env or {}).items() if v is not None}, "url": self.server_url,
            "headers": _headers(self.custom_headers, self.auth_header, self.auth_token),
            "disabled": self.disabled, "allowed_tools": self.allowed_tools, "disabled_tools": self.disabled_tools,
        }  # fmt: skip
        if self.type:
            fields["type"] = self.type
        if self.timeout is not None:
            fields["timeout"] = self.timeout
        return validate_config(fields)


class ServerUpdateIn(BaseModel):
    """A PATCH body: any of Letta's three update shapes, plus agenthost's extensions."""

    model_config = ConfigDict(extra="forbid")

    server_name: str | None = None
    stdio_config: ServerConfigIn | None = None
    command: str | None = None
    args: list[str] | None = None
    env: dict[str, str | None] | None = None
    server_url: str | None = None
    token: str | None = None
    auth_header: str | None = None
    auth_token: str | None = None
    custom_headers: dict[str, str] | None = None
    timeout: float | None = Field(default=None, gt=0)
    disabled: bool | None = None
    allowed_tools: list[str] | None = None
    disabled_tools: list[str] | None = None

    def apply(self, name: str, current: McpServerConfig | None) -> McpServerConfig:
        """The config after this update; `"****"` values keep what `current` has."""
        if self.server_name is not None and self.server_name != name:
            raise InvalidRequestError(f"renaming MCP server {name!r} to {self.server_name!r} is not supported; "
                                      "DELETE it and PUT the new name")
        fields: dict[str, Any] = current.model_dump() if current is not None else {"name": name}
        old_env = dict(current.env) if current is not None else {}
        old_headers = dict(current.headers) if current is not None else {}
        stdio = self.stdio_config
        if stdio is not None:
            fields.update(transport="stdio", url=None, headers={}, command=stdio.command, args=stdio.args,
                          env=_keep_secrets(stdio.env or {}, old_env))
        if self.command is not None or self.args is not None or self.env is not None:
            if fields.get("transport") != "stdio":
                fields.update(transport="stdio", url=None, headers={})
            for key in ("command", "args"):
                if getattr(self, key) is not None:
                    fields[key] = getattr(self, key)
            if self.env is not None:
                fields["env"] = _keep_secrets(self.env, old_env)
        if self.server_url is not None:
            if fields.get("transport") == "stdio" or "transport" not in fields:
                fields.pop("transport", None)  # inferred from the URL
            fields.update(url=self.server_url, command=None, args=[], env={})
        token = self.auth_token or self.token
        if self.custom_headers is not None or token:
            headers = _keep_secrets(self.custom_headers, old_headers) if self.custom_headers is not None \
                else dict(old_headers)
            if token == REDACTED:  # the masked token sent back: keep the stored one
                name = (self.auth_header or AUTH).lower()
                headers.update({k: v for k, v in old_headers.items() if k.lower() == name})
            else:
                headers.update(_headers(None, self.auth_header, token))
            fields["headers"] = headers
        for key in ("disabled", "allowed_tools", "disabled_tools"):
            if getattr(self, key) is not None:
                fields[key] = getattr(self, key)
        if self.timeout is not None:
            fields["timeout_s"] = self.timeout
        return unmask(validate_config(fields), current)  # masked args and URL parts sent back keep theirs


def validate_config(fields: dict[str, Any]) -> McpServerConfig:
    try:
        return McpServerConfig.model_validate(fields)
    except ValidationError as error:
        parts = []
        for item in error.errors():
            loc = ".".join(str(p) for p in item["loc"])
            parts.append(f"{loc + ': ' if loc else ''}{item['msg'].removeprefix('Value error, ')}")
        raise InvalidRequestError(f"invalid MCP server config: {'; '.join(parts)}") from None


def _headers(custom: dict[str, str] | None, auth_header: str | None, auth_token: str | None) -> dict[str, str]:
    headers = dict(custom or {})
    if auth_token:
        if auth_header:
            headers[auth_header] = auth_token
        else:
            headers[AUTH] = auth_token if auth_token.lower().startswith("bearer ") else f"Bearer {auth_token}"
    return headers


def _keep_secrets(new: Mapping[str, str | None], old: dict[str, str]) -> dict[str, str]:
    out: dict[str, str] = {}
    for key, value in new.items():
        if value == REDACTED and key in old:
            out[key] = old[key]
        elif value is not None:
            out[key] = value
    return out


# ---- responses ------------------------------------------------------------------------------------
def server_out(name: str, config: McpServerConfig | None, *, source: str, status: ServerStatus | None,
               config_error: str | None = None, raw: Any = None, file_error: str | None = None) -> dict[str, Any]:
    """Letta's server shape (secrets redacted) plus agenthost's `source`, `state`, `last_error`, `tool_count`
    and, for a server from the config file, `config_file_error` (the file is unparsable: edits are not applied
    and the server runs as last read, until the file is fixed)."""
    live: dict[str, Any] = {
        "source": source,
        "state": status.state if status is not None else "error",
        "last_error": (status.last_error if status is not None else None) or config_error,
        "tool_count": status.tool_count if status is not None else 0,
    }
    if source == "config_file":
        live["config_file_error"] = file_error
    if config is None:
        kind = "stdio" if isinstance(raw, dict) and raw.get("command") else "streamable_http"
        return {"server_name": name, "type": kind, **live}
    view = redacted(config)
    extra = {"timeout": config.timeout_s, "disabled": config.disabled}
    if config.allowed_tools is not None:
        extra["allowed_tools"] = config.allowed_tools
    if config.disabled_tools:
        extra["disabled_tools"] = config.disabled_tools
    if config.transport == "stdio":
        return {"server_name": name, "type": "stdio", "command": config.command, "args": view["args"],
                "env": view["env"], **extra, **live}
    headers: dict[str, str] = dict(view["headers"])
    auth = next((key for key in headers if key.lower() == AUTH.lower()), None)
    if auth is not None:
        headers.pop(auth)
    return {"server_name": name, "type": config.transport, "server_url": view["url"], "auth_header": auth,
            "auth_token": REDACTED if auth else None, "custom_headers": headers or None, **extra, **live}


def status_out(name: str, source: str, status: ServerStatus | None, config_error: str | None,
               file_error: str | None = None) -> dict[str, Any]:
    """Live status; `config_file_error` says the config file is unparsable (edits are not being applied)."""
    out: dict[str, Any] = {"server_name": name, "source": source, "state": "error", "last_error": config_error}
    if status is not None:
        out.update(
            transport=status.transport, state=status.state, last_error=status.last_error or config_error,
            tool_count=status.tool_count, pid=status.pid, attempts=status.attempts, retry_in_s=status.retry_in_s,
            protocol_version=status.protocol_version,
        )  # fmt: skip
    if source == "config_file":
        out["config_file_error"] = file_error
    return out


def mcp_tool_out(tool: McpTool) -> dict[str, Any]:
    """Letta's ``MCPTool`` plus ``agent_name``: the tool row name registering it would create."""
    return {
        "name": tool.name, "title": tool.annotations.get("title"), "description": tool.description,
        "inputSchema": tool.input_schema, "outputSchema": None, "annotations": tool.annotations or None,
        "_meta": None, "agent_name": tool.agent_name,
    }  # fmt: skip
