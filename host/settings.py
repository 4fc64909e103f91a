"""Settings: read once, at the entrypoint, from Letta's documented environment variables.

Nothing below the entrypoint reads ``os.environ``; the ``Settings`` object is passed down.
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from host.llm.providers import ProviderSettings  # noqa: E402

_TRUE = {"1", "true", "yes", "on"}


def _flag(env: Mapping[str, str], name: str, default: bool = False) -> bool:
    raw = env.get(name)
    return default if raw is None or raw == "" else raw.strip().lower() in _TRUE


def _int(env: Mapping[str, str], name: str, default: int) -> int:
    raw = env.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        return int(raw)
    except ValueError as exc:
        raise ValueError(f"{name} must be an integer, got {raw!r}") from exc


def _list(env: Mapping[str, str], name: str) -> tuple[str, ...]:
    return tuple(item.strip() for item in (env.get(name) or "").split(",") if item.strip())
def _positive(env: Mapping[str, str], name: str, default: float) -> float:
    raw = env.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        value = float(raw)
    except ValueError as exc:
        raise ValueError(f"{name} must be a number, got {raw!r}") from exc
    if value <= 0:
        raise ValueError(f"{name} must be positive, got {raw!r}")
    return value


MIB = 1024 * 1024


@dataclass(frozen=True)
class Limits:
    """Size limits on requests and turns, and the run leases (docs/limits.md)."""

    max_body_bytes: int = 10 * MIB  # AGENTHOST_MAX_BODY_BYTES: any request body but an upload
    max_upload_bytes: int = 100 * MIB  # AGENTHOST_MAX_UPLOAD_BYTES: a multipart upload (file to a source)
    max_message_chars: int = 1_000_000  # AGENTHOST_MAX_MESSAGE_CHARS: the text of one input message
    max_input_messages: int = 1_000  # AGENTHOST_MAX_INPUT_MESSAGES: input messages of one turn
    run_lease_s: float = 30.0  # AGENTHOST_RUN_LEASE_SECONDS: a run whose owner stopped renewing is orphaned
    run_renew_s: float = 10.0  # AGENTHOST_RUN_RENEW_SECONDS: how often a server renews its runs' leases

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> Limits:
        return cls(
            max_body_bytes=int(_positive(env, "AGENTHOST_MAX_BODY_BYTES", cls.max_body_bytes)),
            max_upload_bytes=int(_positive(env, "AGENTHOST_MAX_UPLOAD_BYTES", cls.max_upload_bytes)),
            max_message_chars=int(_positive(env, "AGENTHOST_MAX_MESSAGE_CHARS", cls.max_message_chars)),
            max_input_messages=int(_positive(env, "AGENTHOST_MAX_INPUT_MESSAGES", cls.max_input_messages)),
            run_lease_s=_positive(env, "AGENTHOST_RUN_LEASE_SECONDS", cls.run_lease_s),
            run_renew_s=_positive(env, "AGENTHOST_RUN_RENEW_SECONDS", cls.run_renew_s),
        )


@dataclass(frozen=True)
class Settings:
    home: Path
    pg_uri: str | None = None
    pg_pool_size: int = 20
    pg_max_overflow: int = 30
    pg_pool_timeout: int = 30
    pg_pool_recycle: int = 1800
    # AGENTHOST_PG_IDLE_IN_TRANSACTION_SECONDS: Postgres ends a session idle inside a transaction this long
    # (a stalled process's), releasing its locks
    pg_idle_in_transaction_s: float = 60.0
    secure: bool = False
    server_password: str | None = None
    workers: int = 1
    tool_exec_dir: Path | None = None
    tool_exec_venv_name: str | None = None
    # AGENTHOST_SANDBOX_WARM_POOL: interpreters kept booted for custom tools (0: every call starts its own)
    tool_warm_pool_size: int = 6  # 6 x ~14 MB of RSS (interpreter + bwrap); see docs/sandbox.md
    e2b_api_key: str | None = None
    e2b_sandbox_template_id: str | None = None
    e2b_api_url: str | None = None
    e2b_sandbox_url: str | None = None
    tavily_api_key: str | None = None
    tavily_api_base: str | None = None
    composio_api_key: str | None = None
    composio_base_url: str | None = None
    mcp_config_path: Path | None = None
    providers: ProviderSettings = field(default_factory=ProviderSettings)
    debug: bool = False
    llm_timeout_s: float = 120.0
    # Provider traces (GET /v1/telemetry/{step_id}): kept this long, each side cut to this many bytes of JSON.
    provider_traces: bool = True
    provider_trace_retention_s: float = 7 * 86400.0
    provider_trace_max_bytes: int = 1_000_000
    # OpenTelemetry: on only when an OTLP endpoint is set (the standard OTEL_* variables, read here once).
    otel: dict[str, str] = field(default_factory=dict)
    bind_host: str = "127.0.0.1"
    allowed_hosts: tuple[str, ...] = ()
    acceptable_origins: tuple[str, ...] = ()
    # False in a process that shares the data with a running server (`agenthost mcp` beside `serve`): it
    # must not re-queue or fail work that process still owns (interrupted ingestion jobs, runs).
    recover_interrupted: bool = True
    limits: Limits = field(default_factory=lambda: Limits())

    @property
    def sqlite_path(self) -> Path:
        return self.home / "agenthost.db"

    @property
    def database_url(self) -> str:
        if self.pg_uri:
            uri = self.pg_uri
            for prefix in ("postgresql://", "postgres://", "postgresql+psycopg2://", "postgresql+pg8000://"):
                if uri.startswith(prefix):
                    return "postgresql+asyncpg://" + uri[len(prefix):]
            return uri
        return f"sqlite+aiosqlite:///{self.sqlite_path}"

    @property
    def is_postgres(self) -> bool:
        return bool(self.pg_uri)

    @property
    def resolved_mcp_config_path(self) -> Path:
        return self.mcp_config_path or (self.home / "mcp_config.json")

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> Settings:
        home = Path(env.get("LETTA_DIR") or env.get("AGENTHOST_HOME") or Path(env.get("HOME", "~")) / ".letta")
        home = home.expanduser()
        secure = _flag(env, "SECURE")
        password = env.get("LETTA_SERVER_PASSWORD") or None
        exec_dir = env.get("TOOL_EXEC_DIR")
        mcp_path = env.get("AGENTHOST_MCP_CONFIG") or env.get("LETTA_MCP_CONFIG_PATH")
        return cls(
            home=home,
            pg_uri=env.get("LETTA_PG_URI") or None,
            pg_pool_size=_int(env, "LETTA_PG_POOL_SIZE", 20),
            pg_max_overflow=_int(env, "LETTA_PG_MAX_OVERFLOW", 30),
            pg_pool_timeout=_int(env, "LETTA_PG_POOL_TIMEOUT", 30),
            pg_pool_recycle=_int(env, "LETTA_PG_POOL_RECYCLE", 1800),
            pg_idle_in_transaction_s=_positive(env, "AGENTHOST_PG_IDLE_IN_TRANSACTION_SECONDS",
                                               cls.pg_idle_in_transaction_s),
            secure=secure,
            server_password=password,
            workers=max(1, _int(env, "LETTA_UVICORN_WORKERS", 1)),
            tool_exec_dir=Path(exec_dir).expanduser() if exec_dir else None,
            tool_exec_venv_name=env.get("TOOL_EXEC_VENV_NAME") or None,
            tool_warm_pool_size=max(0, _int(env, "AGENTHOST_SANDBOX_WARM_POOL", cls.tool_warm_pool_size)),
            e2b_api_key=env.get("E2B_API_KEY") or None,
            e2b_sandbox_template_id=env.get("E2B_SANDBOX_TEMPLATE_ID") or None,
            e2b_api_url=env.get("E2B_API_URL") or None,
            e2b_sandbox_url=env.get("E2B_SANDBOX_URL") or None,
            tavily_api_key=env.get("TAVILY_API_KEY") or None,
            tavily_api_base=env.get("TAVILY_API_BASE") or None,
            composio_api_key=env.get("COMPOSIO_API_KEY") or None,
            composio_base_url=env.get("COMPOSIO_BASE_URL") or None,
            mcp_config_path=Path(mcp_path).expanduser() if mcp_path else None,
            providers=ProviderSettings.from_env(env),
            debug=_flag(env, "LETTA_DEBUG"),
            llm_timeout_s=float(env.get("LETTA_LLM_TIMEOUT_SECONDS") or 120.0),
            provider_traces=_flag(env, "AGENTHOST_PROVIDER_TRACES", True),
            provider_trace_retention_s=_positive(env, "AGENTHOST_PROVIDER_TRACE_RETENTION_DAYS", 7.0) * 86400,
            provider_trace_max_bytes=max(1024, _int(env, "AGENTHOST_PROVIDER_TRACE_MAX_BYTES", 1_000_000)),
            otel=({k: v for k, v in env.items() if k.startswith("OTEL_")}
                  if (env.get("OTEL_EXPORTER_OTLP_ENDPOINT") or env.get("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"))
                  and not _flag(env, "OTEL_SDK_DISABLED") else {}),
            bind_host=env.get("AGENTHOST_BIND_HOST") or "127.0.0.1",
            allowed_hosts=_list(env, "AGENTHOST_ALLOWED_HOSTS"),
            acceptable_origins=_list(env, "ACCEPTABLE_ORIGINS"),
            limits=Limits.from_env(env),
        )

    def with_generated_password(self) -> tuple[Settings, bool]:
        """Return settings with a password when SECURE is on and none was given."""
        if not self.secure or self.server_password:
            return self, False
        from dataclasses import replace

        return replace(self, server_password=secrets.token_urlsafe(24)), True
