"""Exceptions raised by the sandbox package.

Only infrastructure failures raise; a tool that fails, times out, is killed,
has a syntax error or misses a package comes back as
``SandboxResult(status="error")``.

    SandboxError                      base class
    ├── SandboxConfigError            a configuration value cannot work (names the field)
    ├── VenvCreationError             creating a venv or installing requirements failed
    ├── SandboxStartError             the runner process or the remote sandbox could not start
    └── SandboxClosedError            run() called on a sandbox outside its ``async with``
"""

from __future__ import annotations

from pathlib import Path


class SandboxError(Exception):
    """Base class for every error raised by ``sandbox``."""


class SandboxConfigError(SandboxError):
    def __init__(self, field: str, message: str) -> None:
        self.field = field
        super().__init__(f"sandbox configuration {field}: {message}")


class VenvCreationError(SandboxError):
    def __init__(self, venv_path: Path, step: str, output: str) -> None:
        self.venv_path = venv_path
        self.step = step
        self.output = output
        tail = output.strip()[-2000:]
        super().__init__(
            f"could not {step} for venv {venv_path}; fix the requirements or delete the directory and retry. Output:\n{tail}"
        )


class SandboxStartError(SandboxError):
    pass


class SandboxClosedError(SandboxError):
    def __init__(self, backend: str) -> None:
        super().__init__(f"{backend} is not open; use it inside 'async with'")
