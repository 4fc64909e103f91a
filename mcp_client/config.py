"""`mcp_config.json` in Claude Desktop's format: parse, expand `${VAR}`, validate, redact.

    {"mcpServers": {
        "files":  {"command": "npx", "args": ["-y", "@modelcontextprotocol/server-filesystem", "/tmp"],
                   "env": {"TOKEN": "${FILES_TOKEN}"}, "timeout": 30, "disabledTools": ["delete"]},
        "remote": {"url": "https://example.com/mcp", "headers": {"Authorization": "Bearer ${API_KEY:-none}"}}
    }}

Transport spelling: `type` or `transport` among stdio, sse, http, streamable_http, streamable-http,
streamableHttp (case-insensitive); when absent: `command` -> stdio, a `url` whose path ends in
`/sse` -> sse, any other `url` -> streamable_http. Parsing never raises: a bad file or entry
becomes a `McpConfigEntry` with `error` naming the field and the reason.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit

from pydantic import AliasChoices, BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from mcp_client.redaction import REDACTED, SECRET_WORD, redact_url, redact_urls, unmask_args, unmask_url

Transport = Literal["stdio", "sse", "streamable_http"]
DEFAULT_TIMEOUT_S = 60.0

_TRANSPORT_SPELLINGS: dict[str, Transport] = {
    "stdio": "stdio",
    "sse": "sse",
    "http": "streamable_http",
    "streamable_http": "streamable_http",
    "streamable-http": "streamable_http",
    "streamablehttp": "streamable_http",
}
_VAR = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}")


class McpServerConfig(BaseModel):
    """One validated server entry (after `${VAR}` expansion)."""

    model_config = ConfigDict(extra="ignore", frozen=True, populate_by_name=True)

    name: str = Field(min_length=1)
    transport: Transport
    command: str | None = None
    args: list[str] = Field(default_factory=list)
    env: dict[str, str] = Field(default_factory=dict)
    cwd: str | None = None
    url: str | None = None
    headers: dict[str, str] = Field(default_factory=dict)
    timeout_s: float = Field(default=DEFAULT_TIMEOUT_S, gt=0, validation_alias=AliasChoices("timeout_s", "timeout"))
    disabled: bool = False
    allowed_tools: list[str] | None = Field(default=None, validation_alias=AliasChoices("allowed_tools", "allowedTools"))
    disabled_tools: list[str] = Field(
        default_factory=list, validation_alias=AliasChoices("disabled_tools", "disabledTools")
    )

    @model_validator(mode="before")
    @classmethod
    def _normalise_transport(cls, data: Any) -> Any:
        if not isinstance(data, dict):
            return data
        data = dict(data)
        spelled = data.pop("type", None)
        if data.get("transport") is None and spelled is not None:
            data["transport"] = spelled
        raw = data.get("transport")
        if isinstance(raw, str):
            known = _TRANSPORT_SPELLINGS.get(raw.strip().lower())
            if known is None:
                choices = ", ".join(sorted(set(_TRANSPORT_SPELLINGS)))
                raise ValueError(f"transport {raw!r} is not one of {choices}")
            data["transport"] = known
        elif raw is None:
            if data.get("command"):
                data["transport"] = "stdio"
            elif isinstance(data.get("url"), str):
                path = urlsplit(data["url"]).path.rstrip("/")
                data["transport"] = "sse" if path.endswith("/sse") else "streamable_http"
            else:
                raise ValueError("entry needs `command` (stdio) or `url` (sse / streamable http)")
        return data

    @field_validator("url")
    @classmethod
    def _check_url(cls, value: str | None) -> str | None:
        if value is not None and urlsplit(value).scheme not in ("http", "https"):
            raise ValueError(f"url {redact_url(value)!r} must start with http:// or https://")
        return value

    @model_validator(mode="after")
    def _check_endpoint(self) -> McpServerConfig:
        if self.transport == "stdio" and not self.command:
            raise ValueError("a stdio server needs `command`")
        if self.transport != "stdio" and not self.url:
            raise ValueError(f"a {self.transport} server needs `url`")
        return self

    def tool_enabled(self, tool: str) -> bool:
        """Whether the allow/deny lists let agents see `tool`."""
        if tool in self.disabled_tools:
            return False
        return self.allowed_tools is None or tool in self.allowed_tools


@dataclass(frozen=True, slots=True)
class McpConfigEntry:
    """One `mcpServers` entry: a valid `config`, or an `error` saying what is wrong."""

    name: str
    config: McpServerConfig | None
    error: str | None = None
    raw: Any = None


@dataclass(frozen=True, slots=True)
class McpConfig:
    """A parsed config file; `error` is set when the file as a whole is unusable."""

    entries: list[McpConfigEntry] = field(default_factory=list)
    error: str | None = None


class _MissingVariable(Exception):
    def __init__(self, name: str) -> None:
        self.name = name


def expand_vars(value: str, environ: Mapping[str, str]) -> str:
    """Replace `${VAR}` and `${VAR:-default}`; a missing VAR without default raises `_MissingVariable`."""

    def replace(match: re.Match[str]) -> str:
        name, default = match.group(1), match.group(2)
        found = environ.get(name)
        if found:
            return found
        if default is not None:
            return default
        if found is not None:
            return found
        raise _MissingVariable(name)

    return _VAR.sub(replace, value)


def _expand_tree(value: Any, environ: Mapping[str, str]) -> Any:
    if isinstance(value, str):
        return expand_vars(value, environ)
    if isinstance(value, list):
        return [_expand_tree(item, environ) for item in value]
    if isinstance(value, dict):
        return {key: _expand_tree(item, environ) for key, item in value.items()}
    return value


def _describe(error: ValidationError, name: str) -> str:
    parts = []
    for item in error.errors():
        loc = ".".join(str(p) for p in item["loc"])
        where = f"mcpServers.{name}.{loc}" if loc else f"mcpServers.{name}"
        message = item["msg"].removeprefix("Value error, ")
        parts.append(f"{where}: {message}")
    return "; ".join(parts)


def parse_entry(name: str, raw: Any, environ: Mapping[str, str]) -> McpConfigEntry:
    """Validate one entry; never raises."""
    if not isinstance(raw, dict):
        return McpConfigEntry(name, None, f"mcpServers.{name}: expected an object, got {type(raw).__name__}", raw)
    try:
        expanded = _expand_tree(raw, environ)
    except _MissingVariable as missing:
        reason = f"mcpServers.{name}: environment variable {missing.name!r} is not set (use ${{{missing.name}:-default}})"
        return McpConfigEntry(name, None, reason, raw)
    try:
        config = McpServerConfig.model_validate({**expanded, "name": name})
    except ValidationError as error:
        return McpConfigEntry(name, None, _describe(error, name), raw)
    return McpConfigEntry(name, config, None, raw)


def parse_config(document: Any, environ: Mapping[str, str]) -> McpConfig:
    """Parse an already-decoded config document; never raises."""
    if not isinstance(document, dict):
        return McpConfig([], f"config must be a JSON object with `mcpServers`, got {type(document).__name__}")
    servers = document.get("mcpServers", document.get("servers", {}))
    if not isinstance(servers, dict):
        return McpConfig([], f"`mcpServers` must be an object of name -> entry, got {type(servers).__name__}")
    return McpConfig([parse_entry(str(name), raw, environ) for name, raw in servers.items()])


def load_config(path: str | Path, environ: Mapping[str, str]) -> McpConfig:
    """Read and parse `mcp_config.json`; a missing or malformed file gives `McpConfig(error=...)`."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        return McpConfig([], f"{path}: file not found")
    except OSError as error:
        return McpConfig([], f"{path}: cannot read ({error})")
    if not text.strip():
        return McpConfig([])
    try:
        document = json.loads(text)
    except json.JSONDecodeError as error:
        return McpConfig([], f"{path}: invalid JSON at line {error.lineno} column {error.colno}: {error.msg}")
    return parse_config(document, environ)


def _redact_args(args: list[str]) -> list[str]:
    """Values after or attached to a secret-looking flag, `NAME=value` with a secret-looking NAME and URL
    credentials become `****`; other arguments are shown (they are redacted from error text instead)."""
    out: list[str] = []
    hide_next = False
    for arg in args:
        name, eq, _ = arg.partition("=")
        if hide_next:
            out.append(REDACTED)
            hide_next = False
        elif eq and SECRET_WORD.search(name):
            out.append(f"{name}={REDACTED}")
        elif arg.startswith("-") and not eq and SECRET_WORD.search(arg):
            out.append(arg)
            hide_next = True
        elif "://" in arg:
            out.append(redact_urls(arg))
        else:
            out.append(arg)
    return out


def redacted(config: McpServerConfig) -> dict[str, Any]:
    """A JSON-ready view for API responses: header and env values, URL secrets and secret args hidden."""
    view = config.model_dump()
    view["env"] = {key: REDACTED for key in config.env}
    view["headers"] = {key: REDACTED for key in config.headers}
    view["args"] = _redact_args(config.args)
    if config.url is not None:
        view["url"] = redact_url(config.url)
    return view


def unmask(new: McpServerConfig, old: McpServerConfig | None) -> McpServerConfig:
    """`new` where each value that is the mask answers showed for `old` keeps `old`'s value: arguments,
    the URL's password and query values, and header and env values (``"****"``)."""
    if old is None:
        return new
    changes: dict[str, Any] = {
        "args": unmask_args(new.args, old.args, _redact_args(old.args)),
        "env": {k: old.env[k] if v == REDACTED and k in old.env else v for k, v in new.env.items()},
        "headers": {k: old.headers[k] if v == REDACTED and k in old.headers else v for k, v in new.headers.items()},
    }
    if new.url is not None:
        changes["url"] = unmask_url(new.url, old.url)
    return new.model_copy(update=changes)
