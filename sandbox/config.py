"""Configuration of the sandbox backends (built by the host from its settings, never from os.environ here)."""

from __future__ import annotations

import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

DEFAULT_ENV_ALLOWLIST: tuple[str, ...] = (
    "PATH",
    "LANG",
    "LC_ALL",
    "LC_CTYPE",
    "TZ",
    "TERM",
    "TMPDIR",
    "SSL_CERT_FILE",
    "SSL_CERT_DIR",
    "REQUESTS_CA_BUNDLE",
    "HTTP_PROXY",
    "HTTPS_PROXY",
    "NO_PROXY",
    "http_proxy",
    "https_proxy",
    "no_proxy",
)


def _default_venv_cache() -> Path:
    return Path(tempfile.gettempdir()) / "agenthost-sandbox-venvs"


@dataclass(frozen=True)
class LocalSandboxConfig:
    """Local subprocess backend.

    Interpreter choice: ``exec_dir`` + ``venv_name`` + ``use_venv`` -> ``exec_dir/venv_name``
    (created at start-up from ``exec_dir/requirements.txt`` when missing); otherwise
    ``python_executable`` (default: the server's interpreter).  A request with
    ``pip_requirements`` runs in a cached venv under ``venv_cache_dir`` keyed by the
    requirement set (built on top of the base interpreter's packages).

    Limits: ``timeout_s`` wall clock (the whole process tree is killed),
    ``cpu_seconds`` / ``memory_limit_mb`` (address space) / ``max_file_size_mb``
    via setrlimit in the child, ``max_processes`` via a pids cgroup when one is
    writable (always when running as root, where RLIMIT_NPROC is not enforced),
    else via RLIMIT_NPROC (per user, not per call).  0 disables a limit.

    Containment (see ``_confine``): ``isolation`` "auto" runs every call in its own
    bubblewrap namespaces when ``bwrap`` works here, else falls back to "process";
    "namespaces" requires them (the sandbox does not start without); "process" uses
    none.  In every mode a server running as root runs tool code as
    ``sandbox_uid``/``sandbox_gid`` (default nobody/nogroup).  ``network`` False gives
    namespaced calls a network namespace of their own (loopback only, nothing
    listening); it needs namespaces.  ``extra_ro_paths`` are shown read-only.

    Warm pool: ``warm_pool_size`` interpreters wait booted while calls come; after ``warm_pool_idle_s``
    without one the pool keeps ``warm_pool_idle_size`` (at most ``warm_pool_size``) until the next call.
    ``after_call_s`` after a call, its processes are reaped, its cgroup and private /tmp removed and (a pool
    still more than half full) its replacement started: not while the caller goes on with the answer.
    """

    exec_dir: Path | None = None
    venv_name: str | None = None
    use_venv: bool = False
    python_executable: Path = field(default_factory=lambda: Path(sys.executable))
    timeout_s: float = 60.0
    max_output_bytes: int = 64 * 1024
    memory_limit_mb: int = 1024
    cpu_seconds: int = 60
    max_processes: int = 64
    max_file_size_mb: int = 64
    warm_pool_size: int = 2
    warm_pool_idle_size: int = 2  # what the pool shrinks to after warm_pool_idle_s without a call
    warm_pool_idle_s: float = 60.0
    after_call_s: float = 0.1  # a turn's step write and next model call take ~15 ms after a tool call
    venv_cache_dir: Path = field(default_factory=_default_venv_cache)
    env_allowlist: tuple[str, ...] = DEFAULT_ENV_ALLOWLIST
    base_env: dict[str, str] = field(default_factory=dict)
    pip_timeout_s: float = 600.0
    cgroup_root: Path | None = Path("/sys/fs/cgroup/pids")
    isolation: Literal["auto", "namespaces", "process"] = "auto"
    network: bool = True
    sandbox_uid: int = 65534
    sandbox_gid: int = 65534
    bwrap_path: Path | None = None
    extra_ro_paths: tuple[Path, ...] = ()

    @property
    def venv_dir(self) -> Path | None:
        if self.use_venv and self.exec_dir is not None and self.venv_name:
            return self.exec_dir / self.venv_name
        return None


@dataclass(frozen=True)
class E2BSandboxConfig:
    """E2B backend (``e2b-code-interpreter``).

    ``api_url`` / ``sandbox_url`` point the SDK elsewhere (tests use a loopback fake).
    ``timeout_s`` is the sandbox lifetime asked of E2B; ``ttl_s`` is how long an idle
    sandbox is kept for reuse by the same ``reuse_key``; ``exec_timeout_s`` bounds
    one call when the request has no ``timeout_s``.
    """

    api_key: str
    template: str | None = None
    timeout_s: int = 300
    ttl_s: float = 240.0
    exec_timeout_s: float = 60.0
    request_timeout_s: float = 30.0
    api_url: str | None = None
    sandbox_url: str | None = None
    pip_requirements: list[str] = field(default_factory=list)
    max_output_bytes: int = 64 * 1024
