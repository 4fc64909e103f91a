"""The environment a tool process starts with: an allowlist, never the server's secrets."""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from pathlib import Path

_FIXED = {"PYTHONIOENCODING": "utf-8", "PYTHONDONTWRITEBYTECODE": "1", "PYTHONUNBUFFERED": "1"}


def build_base_env(
    allowlist: Iterable[str],
    configured: Mapping[str, str],
    home: Path,
    venv_dir: Path | None = None,
) -> dict[str, str]:
    """Allowlisted variables of the server process + fixed values + the sandbox configuration's variables.

    This is the only place the package reads ``os.environ``: to copy the allowlisted names.
    Per-call variables (the agent's tool_exec_environment_variables) travel in the job.
    """
    env = {name: os.environ[name] for name in allowlist if name in os.environ}
    env.setdefault("PATH", os.defpath)
    env.setdefault("LANG", "C.UTF-8")
    env.update(_FIXED)
    env["HOME"] = str(home)
    env["TMPDIR"] = str(home)
    if venv_dir is not None:
        env["VIRTUAL_ENV"] = str(venv_dir)
        env["PATH"] = f"{venv_dir / 'bin'}{os.pathsep}{env['PATH']}"
    env.update({str(k): str(v) for k, v in configured.items()})
    return env
