"""Virtual environments for tool code: the configured exec venv and cached per-requirement-set venvs.

Venvs are created ``--without-pip``; packages are installed by the server's own
pip pointed at the venv (``pip --python <venv python>``), which is much faster
than bootstrapping pip into every venv.  Progress is logged line by line.

Several server processes may share the venv directories (``agenthost serve --workers N``): a build holds an
exclusive ``flock`` (the exec venv: on its exec directory; a cached venv: on ``<cache>/<key>.lock``) and looks
again for a finished venv once it has it, so a venv is built once and never removed while another process
builds it. The lock dies with its process.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import logging
import os
import shutil
import stat
import subprocess
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import anyio
from anyio.streams.text import TextReceiveStream

from ._exceptions import SandboxConfigError, VenvCreationError
from .config import LocalSandboxConfig

logger = logging.getLogger(__name__)

_READY_MARKER = ".agenthost-ready"


def venv_python(venv_dir: Path) -> Path:
    return venv_dir / "bin" / "python"


@asynccontextmanager
async def _building(path: Path, *, directory: bool = False) -> AsyncIterator[None]:
    """Hold an exclusive ``flock`` on ``path`` (a lock file, created if missing, or a directory) against
    other processes' builds; waits by polling (cancellable, the event loop never blocks)."""
    flags = (os.O_RDONLY | os.O_DIRECTORY) if directory else (os.O_RDWR | os.O_CREAT)
    fd = os.open(path, flags | os.O_CLOEXEC, 0o600)
    try:
        wait = 0.01
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                await anyio.sleep(wait)
                wait = min(wait * 2, 0.5)
        yield
    finally:
        os.close(fd)  # drops the lock


async def _run_logged(cmd: list[str], venv_dir: Path, step: str, timeout_s: float) -> None:
    """Run a command, logging each output line as progress; raise VenvCreationError on failure."""
    lines: list[str] = []
    logger.info("venv %s: %s", venv_dir, step)
    try:
        with anyio.fail_after(timeout_s):
            async with await anyio.open_process(
                cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT
            ) as proc:
                assert proc.stdout is not None
                buffer = ""
                async for chunk in TextReceiveStream(proc.stdout, errors="replace"):
                    buffer += chunk
                    *complete, buffer = buffer.split("\n")
                    for line in complete:
                        lines.append(line)
                        logger.info("venv %s: %s", venv_dir.name, line.rstrip())
                if buffer:
                    lines.append(buffer)
                code = await proc.wait()
    except TimeoutError:
        raise VenvCreationError(venv_dir, step, "\n".join(lines) + f"\n(timed out after {timeout_s} s)") from None
    except OSError as exc:
        raise VenvCreationError(venv_dir, step, str(exc)) from exc
    if code != 0:
        raise VenvCreationError(venv_dir, step, "\n".join(lines))


async def _create(base_python: Path, venv_dir: Path, requirements: list[str], timeout_s: float) -> Path:
    await _run_logged([str(base_python), "-m", "venv", "--without-pip", str(venv_dir)], venv_dir, "create venv", 120)
    if requirements:
        req_file = venv_dir / "agenthost-requirements.txt"
        await anyio.Path(req_file).write_text("\n".join(requirements) + "\n")
        cmd = [
            sys.executable, "-m", "pip", "--python", str(venv_python(venv_dir)), "install",
            "--disable-pip-version-check", "--no-input", "--progress-bar", "off", "-r", str(req_file),
        ]
        await _run_logged(cmd, venv_dir, f"install {len(requirements)} requirement(s)", timeout_s)
    await anyio.Path(venv_dir / _READY_MARKER).write_text(json.dumps(requirements))
    await anyio.to_thread.run_sync(make_readable, venv_dir)
    logger.info("venv %s: ready", venv_dir)
    return venv_python(venv_dir)


def make_readable(venv_dir: Path) -> None:
    """a+rX on the venv: tool code runs as another uid (nobody) when the server is root, whatever the umask."""
    for root, dirs, files in os.walk(venv_dir):
        for name in [*dirs, *files]:
            path = os.path.join(root, name)
            try:
                st = os.lstat(path)
                if stat.S_ISLNK(st.st_mode):
                    continue
                extra = 0o555 if stat.S_ISDIR(st.st_mode) or st.st_mode & 0o100 else 0o444
                if st.st_mode & extra != extra:
                    os.chmod(path, st.st_mode | extra)
            except OSError as exc:
                logger.warning("venv %s: could not make %s readable: %s", venv_dir, path, exc)
    os.chmod(venv_dir, os.stat(venv_dir).st_mode | 0o555)


def _read_requirements_file(path: Path) -> list[str]:
    if not path.is_file():
        return []
    out = []
    for raw in path.read_text().splitlines():
        line = raw.strip()
        if line and not line.startswith("#"):
            out.append(line)
    return out


async def ensure_exec_venv(config: LocalSandboxConfig) -> Path:
    """The interpreter tool code runs with; creates the configured venv if it is missing."""
    venv_dir = config.venv_dir
    if venv_dir is None:
        return config.python_executable
    assert config.exec_dir is not None
    if not config.exec_dir.is_dir():
        raise SandboxConfigError("exec_dir", f"{config.exec_dir} is not a directory; create it or unset it")
    if (venv_dir / _READY_MARKER).exists() and venv_python(venv_dir).exists():
        return venv_python(venv_dir)
    async with _building(config.exec_dir, directory=True):
        if (venv_dir / _READY_MARKER).exists() and venv_python(venv_dir).exists():
            return venv_python(venv_dir)  # another process built it meanwhile
        if venv_dir.exists():
            logger.warning("venv %s is incomplete; recreating it", venv_dir)
            await anyio.to_thread.run_sync(shutil.rmtree, venv_dir)
        reqs = _read_requirements_file(config.exec_dir / "requirements.txt")
        return await _create(config.python_executable, venv_dir, reqs, config.pip_timeout_s)


async def recreate_venv(config: LocalSandboxConfig) -> Path:
    """Delete and rebuild the configured exec venv from ``exec_dir/requirements.txt``."""
    venv_dir = config.venv_dir
    if venv_dir is None:
        raise SandboxConfigError("venv_name", "no venv is configured (set exec_dir, venv_name and use_venv)")
    if venv_dir.exists():
        await anyio.to_thread.run_sync(shutil.rmtree, venv_dir)
    return await ensure_exec_venv(config)


def requirements_key(base_python: Path, requirements: list[str]) -> str:
    normalised = sorted({r.strip() for r in requirements if r.strip()})
    blob = json.dumps([str(base_python), normalised])
    return hashlib.sha256(blob.encode()).hexdigest()[:24]


class RequirementVenvs:
    """Cached venvs keyed by (base interpreter, requirement set); one build at a time per key."""

    def __init__(self, cache_dir: Path, base_python: Path, pip_timeout_s: float) -> None:
        self._cache_dir = cache_dir
        self._base_python = base_python
        self._pip_timeout_s = pip_timeout_s
        self._locks: dict[str, anyio.Lock] = {}

    async def python_for(self, requirements: list[str]) -> Path:
        key = requirements_key(self._base_python, requirements)
        venv_dir = self._cache_dir / key
        lock = self._locks.setdefault(key, anyio.Lock())
        async with lock:
            if (venv_dir / _READY_MARKER).exists():
                return venv_python(venv_dir)
            await anyio.Path(self._cache_dir).mkdir(parents=True, exist_ok=True)
            async with _building(self._cache_dir / f"{key}.lock"):
                if (venv_dir / _READY_MARKER).exists():
                    return venv_python(venv_dir)  # another process built it meanwhile
                if venv_dir.exists():
                    await anyio.to_thread.run_sync(shutil.rmtree, venv_dir)
                try:
                    return await _create(self._base_python, venv_dir, sorted(set(requirements)), self._pip_timeout_s)
                except VenvCreationError:
                    await anyio.to_thread.run_sync(lambda: shutil.rmtree(venv_dir, ignore_errors=True))
                    raise
