"""Run custom tool code outside the server process.

One interface (:class:`Sandbox`: ``async with``, ``await run(SandboxRequest)``),
two backends: :class:`LocalSandbox` (a fresh, limited process tree per call, with
warm pre-spawned interpreters, contained in bubblewrap namespaces as an unprivileged
uid when available: see ``_confine``) and :class:`E2BSandbox` (``e2b-code-interpreter``).
Tool failures come back as ``SandboxResult(status="error")``; only infrastructure
failures raise :class:`SandboxError`.
"""

from ._exceptions import (
    SandboxClosedError,
    SandboxConfigError,
    SandboxError,
    SandboxStartError,
    VenvCreationError,
)
from ._pool import PoolStats
from ._types import AgentStateSnapshot, BlockSnapshot, Sandbox, SandboxRequest, SandboxResult
from .config import DEFAULT_ENV_ALLOWLIST, E2BSandboxConfig, LocalSandboxConfig
from .e2b import E2BSandbox
from .local import LocalSandbox, last_function
from .venv import ensure_exec_venv, recreate_venv

__all__ = [
    "DEFAULT_ENV_ALLOWLIST",
    "AgentStateSnapshot",
    "BlockSnapshot",
    "E2BSandbox",
    "E2BSandboxConfig",
    "LocalSandbox",
    "LocalSandboxConfig",
    "PoolStats",
    "Sandbox",
    "SandboxClosedError",
    "SandboxConfigError",
    "SandboxError",
    "SandboxRequest",
    "SandboxResult",
    "SandboxStartError",
    "VenvCreationError",
    "ensure_exec_venv",
    "last_function",
    "recreate_venv",
]
