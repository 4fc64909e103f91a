"""Containment of tool processes: what a tool can see, and as whom it runs.

Two modes, chosen once when a :class:`~sandbox.LocalSandbox` opens (``isolation``):

    namespaces (bubblewrap works here)                 process (fallback)
    ----------------------------------------------     ------------------------------------
    own PID, IPC, UTS, cgroup namespaces, and with      own session and process group only
      network off its own (empty) network namespace
    / is a fresh tmpfs showing, read-only: /usr, /etc   the host filesystem, limited only by
      (/bin, /lib*, /sbin as on the host), the            file permissions
      interpreter's prefixes and sys.path, exec_dir,
      extra_ro_paths
    a fresh /proc (only the call's own processes: PID   the host's /proc
      1 is bubblewrap's reaper, root-owned, holding
      only the tool's allowlisted environment), a
      minimal /dev, a private writable /tmp (HOME,
      TMPDIR) removed after the call
    server is root: the runner switches to              server is root: started directly as
      sandbox_uid/gid before reading its job              sandbox_uid/gid (setgroups, setgid,
      (bubblewrap keeps it only CAP_SETUID/SETGID         setuid before exec)
      until then; no_new_privs, nosuid mounts)

Nothing of the server's data directory or home is visible in namespace mode unless one of the
read-only paths lies inside it (then only that path, e.g. ``$LETTA_DIR/tool-venvs/<key>``).
"""

from __future__ import annotations

import functools
import json
import logging
import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import anyio

from ._exceptions import SandboxStartError
from .config import LocalSandboxConfig

logger = logging.getLogger(__name__)

RUNNER_PATH = Path(__file__).with_name("_runner.py")
_RUNNER_DIR_IN_SANDBOX = "/run/agenthost"
WORK_DIR_IN_SANDBOX = "/tmp"
_SYSTEM_DIRS = ("usr", "etc", "bin", "sbin", "lib", "lib32", "lib64", "libx32")
_HIDDEN_ROOTS = (Path("/proc"), Path("/dev"), Path("/sys"))
_PROBE_TIMEOUT_S = 20.0
_PATHS_CODE = (
    "import json, os, sys\n"
    "paths = [sys.prefix, sys.base_prefix, sys.exec_prefix, sys.base_exec_prefix,\n"
    "         os.path.dirname(os.path.realpath(sys.executable))] + [p for p in sys.path if p]\n"
    "print(json.dumps(paths))\n"
)


def _under(path: Path, root: Path) -> bool:
    return path == root or root in path.parents


@functools.lru_cache(maxsize=8)
def bwrap_problem(bwrap: str | None, network: bool) -> str | None:
    """Why bubblewrap cannot contain tool calls here (None when it can). Probed, and said, once per process."""
    problem = _probe(bwrap, network)
    if problem is not None:
        logger.warning("tool code is NOT contained in namespaces: %s. Tools see the host's filesystem and "
                       "processes (%s)", problem, "as sandbox_uid, not root" if os.geteuid() == 0
                       else f"as the server's own uid {os.geteuid()}")
    return problem


def _probe(bwrap: str | None, network: bool) -> str | None:
    if bwrap is None:
        return "bubblewrap (bwrap) is not installed (apt-get install bubblewrap)"
    true = shutil.which("true") or "/bin/true"
    cmd = [bwrap, "--ro-bind", "/", "/", "--proc", "/proc", "--dev", "/dev", "--unshare-pid", "--unshare-ipc",
           "--unshare-uts", "--die-with-parent", *([] if network else ["--unshare-net"]), "--", true]
    try:
        proc = subprocess.run(cmd, stdin=subprocess.DEVNULL, capture_output=True, text=True,
                              timeout=_PROBE_TIMEOUT_S, env={"PATH": os.defpath})
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"{bwrap} could not run: {exc}"
    if proc.returncode != 0:
        return f"{bwrap} cannot create namespaces here: {proc.stderr.strip()[-300:] or proc.returncode}"
    return None


@dataclass(frozen=True)
class Containment:
    """The containment a local sandbox actually enforces (also reported by the REST API)."""

    namespaces: bool
    bwrap: Path | None
    drop_to: tuple[int, int] | None  # (uid, gid) tool code runs as; None: the server's own uid
    network: bool
    reason: str = ""  # why there are no namespaces

    def report(self) -> dict[str, Any]:
        if self.drop_to is not None:
            user = f"uid {self.drop_to[0]}, gid {self.drop_to[1]} (not the server's uid {os.geteuid()})"
        elif self.namespaces:
            user = f"the server's uid {os.geteuid()}, in a user namespace"
        else:
            user = f"the server's own uid {os.geteuid()}"
        if self.namespaces:
            fs = ("read-only system (/usr, /etc), interpreter and tool venv; private writable /tmp (HOME, "
                  "TMPDIR); no view of the server's home or data directory")
            procs = "own PID namespace: /proc shows only the call's processes"
        else:
            fs = ("the host filesystem, limited by file permissions only; private HOME/TMPDIR directory"
                  + ("" if self.drop_to else "; tools can read whatever the server's user can read"))
            procs = "own process group; the host's /proc is visible"
        return {
            "namespaces": self.namespaces,
            "mechanism": f"bubblewrap ({self.bwrap})" if self.namespaces else "process (no namespaces)",
            "user": user,
            "network": self.network,
            "filesystem": fs,
            "processes": procs,
            **({"reason": self.reason} if self.reason else {}),
        }


def decide(config: LocalSandboxConfig) -> Containment:
    """Probe bubblewrap (blocking: call it in a thread) and pick the mode the config asks for."""
    root = os.geteuid() == 0
    drop_to = (config.sandbox_uid, config.sandbox_gid) if root else None
    bwrap = str(config.bwrap_path) if config.bwrap_path else shutil.which("bwrap")
    problem = None if config.isolation == "process" else bwrap_problem(bwrap, config.network)
    if config.isolation != "process" and problem is None:
        assert bwrap is not None
        return Containment(namespaces=True, bwrap=Path(bwrap), drop_to=drop_to, network=config.network)
    if config.isolation == "namespaces":
        raise SandboxStartError(f"isolation='namespaces' was asked for, but {problem}")
    if not config.network:
        raise SandboxStartError(f"network=False needs namespaces, but {problem or 'isolation is process'}; "
                                "install bubblewrap or turn network back on")
    reason = problem or "isolation='process' was configured"
    return Containment(namespaces=False, bwrap=None, drop_to=drop_to, network=True, reason=reason)


async def interpreter_paths(python: Path) -> tuple[Path, ...]:
    """The directories an interpreter needs: its prefixes and ``sys.path`` (asked of the interpreter)."""
    try:
        with anyio.fail_after(_PROBE_TIMEOUT_S):
            proc = await anyio.run_process([str(python), "-I", "-c", _PATHS_CODE], env={"PATH": os.defpath})
        return tuple(Path(p) for p in json.loads(proc.stdout))
    except (OSError, TimeoutError, ValueError, subprocess.CalledProcessError) as exc:
        raise SandboxStartError(f"could not ask {python} for its paths: {exc}") from exc


def visible_paths(candidates: list[Path]) -> tuple[Path, ...]:
    """Existing paths outside the system dirs, without those inside another one, parents first."""
    system = [Path("/", d) for d in _SYSTEM_DIRS]
    kept: list[Path] = []
    for path in sorted({Path(os.path.abspath(p)) for p in candidates}, key=lambda p: len(p.parts)):
        if not path.exists() or path == Path("/"):
            continue
        real = path.resolve()
        if any(_under(real, s) or _under(path, s) for s in system) or any(_under(path, h) for h in _HIDDEN_ROOTS):
            continue
        if not any(_under(path, k) for k in kept):
            kept.append(path)
    return tuple(kept)


@dataclass(frozen=True)
class Jail:
    """How the runners of one interpreter are started (the bwrap command line, or plain)."""

    containment: Containment
    ro_paths: tuple[Path, ...] = ()
    cwd: Path | None = None
    runner: Path = RUNNER_PATH  # what the interpreter runs: the runner's source, or its bytecode (``_compiled``)

    @property
    def namespaces(self) -> bool:
        return self.containment.namespaces

    @property
    def runner_argument(self) -> str:
        """The runner as the interpreter's script argument (its path inside the sandbox with namespaces)."""
        return f"{_RUNNER_DIR_IN_SANDBOX}/runner{self.runner.suffix}" if self.namespaces else str(self.runner)

    def bwrap_argv(self, home: Path) -> list[str]:
        """``bwrap ... --`` for a runner whose private /tmp is the host directory ``home``."""
        head, tail = self._argv_parts
        return [*head, "--bind", str(home), WORK_DIR_IN_SANDBOX, *tail, "--dir", "/run", "--dir", _RUNNER_DIR_IN_SANDBOX,
                "--ro-bind", str(self.runner), self.runner_argument,
                "--chdir", str(self.cwd) if self.cwd is not None else WORK_DIR_IN_SANDBOX, "--"]

    @functools.cached_property
    def _argv_parts(self) -> tuple[tuple[str, ...], tuple[str, ...]]:
        """What every runner's command line shares, around its /tmp (built once per jail: it stats the system
        directories)."""
        c = self.containment
        assert c.bwrap is not None
        head = [str(c.bwrap), "--die-with-parent", "--new-session", "--unshare-pid", "--unshare-ipc",
                "--unshare-uts", "--unshare-cgroup-try"]
        if not c.network:
            head.append("--unshare-net")
        if c.drop_to is not None:  # root: only what the runner needs to become sandbox_uid
            head += ["--cap-drop", "ALL", "--cap-add", "CAP_SETUID", "--cap-add", "CAP_SETGID"]
        for name in _SYSTEM_DIRS:
            path = Path("/", name)
            if path.is_symlink():
                head += ["--symlink", os.readlink(path), str(path)]
            elif path.is_dir():
                head += ["--ro-bind", str(path), str(path)]
        head += ["--proc", "/proc", "--dev", "/dev"]
        tail: list[str] = []
        made: set[Path] = {Path("/"), Path(WORK_DIR_IN_SANDBOX)}
        bound: list[Path] = []
        for path in self.ro_paths:
            for parent in reversed(path.parents):
                if parent in made or any(_under(parent, b) for b in bound):
                    continue
                tail += ["--dir", str(parent)]  # 0755: bwrap's implicit parents would be 0700
                made.add(parent)
            tail += ["--ro-bind", str(path), str(path)]
            bound.append(path)
        return tuple(head), tuple(tail)


async def jail_for(containment: Containment, python: Path, config: LocalSandboxConfig) -> Jail:
    """The jail for runners of ``python`` (asks the interpreter for its paths in namespace mode)."""
    if not containment.namespaces:
        return Jail(containment, cwd=config.exec_dir)
    venv = python.parent.parent
    candidates = [venv, *(await interpreter_paths(python)), *config.extra_ro_paths]
    if config.exec_dir is not None:
        candidates.append(config.exec_dir)
    return Jail(containment, visible_paths(candidates), cwd=config.exec_dir)
