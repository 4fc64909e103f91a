"""The runner, compiled once per interpreter, so that no runner compiles its own source at boot.

An interpreter started on a ``.py`` script compiles it every time (scripts are never cached): for
``_runner.py`` that is a few milliseconds of every boot, and a burst of calls drains the warm pool as fast
as interpreters boot. The interpreter that runs tools compiles the runner once into a private directory
(the bytecode must match its version), and every runner of that interpreter then starts from the ``.pyc``.
If it cannot compile it, its runners start from the source as before (logged). The compiling interpreter
runs with ``-S``: no ``.pth`` file of a tool's venv runs as the server's user for it.
"""

from __future__ import annotations

import hashlib
import logging
import os
import subprocess
from pathlib import Path

import anyio

logger = logging.getLogger(__name__)

_COMPILE_TIMEOUT_S = 30.0
_COMPILE_CODE = "import py_compile, sys; py_compile.compile(sys.argv[1], cfile=sys.argv[2], doraise=True)"


async def compile_runner(python: Path, source: Path, into: Path) -> Path:
    """``source`` compiled by ``python`` into ``into`` (readable by every uid: tools may run as another one),
    or ``source`` itself when that fails."""
    key = hashlib.sha256(f"{python}\0{source}".encode()).hexdigest()[:16]
    target = into / f"runner-{key}.pyc"
    try:
        with anyio.fail_after(_COMPILE_TIMEOUT_S):
            await anyio.run_process([str(python), "-I", "-S", "-c", _COMPILE_CODE, str(source), str(target)],
                                    env={"PATH": os.defpath})
        os.chmod(target, 0o644)
    except (OSError, TimeoutError, subprocess.CalledProcessError) as exc:
        detail = exc.stderr.decode(errors="replace").strip()[-300:] if isinstance(exc, subprocess.CalledProcessError) \
            else str(exc)
        logger.warning("could not compile the sandbox runner with %s (%s); its runners compile it at every start",
                       python, detail)
        return source
    return target
