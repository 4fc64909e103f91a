"""The local backend: every call runs in its own process tree, never in the server process."""

from __future__ import annotations

import ast
import logging
import os
import shutil
import signal
import tempfile
import time
from contextlib import AsyncExitStack
from dataclasses import replace
from pathlib import Path
from typing import Any, Self

import anyio
from anyio.abc import TaskGroup

from ._cgroup import PidsCgroups
from ._compiled import compile_runner
from ._confine import RUNNER_PATH, Containment, Jail, decide, jail_for
from ._env import build_base_env
from ._exceptions import SandboxClosedError, SandboxStartError, VenvCreationError
from ._pool import PoolStats, WarmPool
from ._process import Outcome, RunnerProcess, SpawnSpec, dispose, execute, spawn_runner
from ._sitehooks import server_pth_files
from ._types import AgentStateSnapshot, SandboxRequest, SandboxResult
from .config import LocalSandboxConfig
from .venv import RequirementVenvs, ensure_exec_venv

logger = logging.getLogger(__name__)

_MB = 1024 * 1024


class LocalSandbox:
    """``async with LocalSandbox(config) as sb: await sb.run(request)``.

    Entering creates the configured venv if needed (logging progress), decides the
    containment (bubblewrap namespaces when they work, see ``_confine``), sets up the
    pids cgroup when available and starts the warm pool; leaving kills every
    process it started.
    """

    def __init__(self, config: LocalSandboxConfig) -> None:
        self.config = config
        self._stack: AsyncExitStack | None = None
        self._python: Path = config.python_executable
        self._cgroups: PidsCgroups | None = None
        self._pool: WarmPool | None = None
        self._venvs: RequirementVenvs | None = None
        self._base_env: dict[str, str] = {}
        self._tg: TaskGroup | None = None
        self._containment: Containment | None = None
        self._jails: dict[Path, Jail] = {}
        self._runner_dir: Path | None = None  # the runner compiled by each interpreter (``_compiled``)
        self._pending = 0
        self._idle = anyio.Event()

    async def __aenter__(self) -> Self:
        cfg = self.config
        async with AsyncExitStack() as stack:
            self._python = await ensure_exec_venv(cfg)
            self._containment = await anyio.to_thread.run_sync(decide, cfg)
            self._runner_dir = runner_dir = Path(tempfile.mkdtemp(prefix="agenthost-runner-"))
            stack.callback(shutil.rmtree, runner_dir, True)
            os.chmod(runner_dir, 0o755)  # tools may run as another uid (it holds only the compiled runner)
            jail = await self._jail(self._python)
            if not self._containment.namespaces and self._containment.drop_to is not None:
                await _check_usable(self._python, cfg, self._containment.drop_to, jail.runner)
            if cfg.max_processes > 0:
                self._cgroups = await anyio.to_thread.run_sync(PidsCgroups.open, cfg.cgroup_root)
                if self._cgroups is not None:
                    stack.callback(self._cgroups.close)
            self._base_env = build_base_env(cfg.env_allowlist, cfg.base_env, home=Path("/nonexistent"), venv_dir=cfg.venv_dir)
            self._venvs = RequirementVenvs(cfg.venv_cache_dir, self._python, cfg.pip_timeout_s)
            if cfg.warm_pool_size > 0:
                self._pool = WarmPool(cfg.warm_pool_size, self._spec(self._python, jail), self._cgroups,
                                      idle_size=cfg.warm_pool_idle_size, idle_after_s=cfg.warm_pool_idle_s)
                stack.push_async_callback(self._pool.aclose)  # after the refiller has stopped
            self._tg = tg = await stack.enter_async_context(anyio.create_task_group())
            stack.callback(tg.cancel_scope.cancel)  # stops the refiller; cleanups are shielded
            stack.push_async_callback(self.quiesce)
            if self._pool is not None:
                await tg.start(self._pool.run)
            logger.info("local sandbox ready: python=%s %s %s", self._python, self.containment, self.enforcement)
            self._stack = stack.pop_all()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        stack, self._stack = self._stack, None
        if stack is not None:
            await stack.aclose()
        self._pool = self._tg = None

    async def _jail(self, python: Path) -> Jail:
        jail = self._jails.get(python)
        if jail is None:
            assert self._containment is not None and self._runner_dir is not None
            jail = await jail_for(self._containment, python, self.config)
            jail = self._jails[python] = replace(jail, runner=await compile_runner(python, RUNNER_PATH,
                                                                                   self._runner_dir))
        return jail

    @property
    def containment(self) -> dict[str, object]:
        """The containment in force (namespaces, user, network, filesystem), as the REST API reports it."""
        if self._containment is None:
            return {"namespaces": None, "state": "not started"}
        return self._containment.report()

    def _nproc_uid(self) -> int | None:
        """The uid RLIMIT_NPROC would count (None: root, where it does not apply)."""
        drop_to = self._containment.drop_to if self._containment is not None else None
        uid = drop_to[0] if drop_to is not None else os.geteuid()
        return uid or None

    @property
    def enforcement(self) -> dict[str, str]:
        """What is actually enforced on this machine (logged at start-up)."""
        cfg = self.config
        nproc_uid = self._nproc_uid()
        if cfg.max_processes <= 0:
            procs = "not limited (max_processes=0)"
        elif self._cgroups is not None:
            procs = f"pids cgroup, pids.max={cfg.max_processes} per call"
        elif nproc_uid is not None:
            procs = f"RLIMIT_NPROC={cfg.max_processes} (counts all processes of uid {nproc_uid})"
        else:
            procs = "NOT enforced (root without a writable pids cgroup); the timeout still kills the tree"
        return {
            "processes": procs,
            "memory": f"RLIMIT_AS={cfg.memory_limit_mb} MB" if cfg.memory_limit_mb else "not limited",
            "cpu": f"RLIMIT_CPU={cfg.cpu_seconds} s" if cfg.cpu_seconds else "not limited",
            "file_size": f"RLIMIT_FSIZE={cfg.max_file_size_mb} MB" if cfg.max_file_size_mb else "not limited",
            "timeout": f"{cfg.timeout_s} s wall clock, process group and cgroup killed",
        }

    def _spec(self, python: Path, jail: Jail) -> SpawnSpec:
        cfg = self.config
        limits = {
            "cpu_seconds": cfg.cpu_seconds,
            "memory_bytes": cfg.memory_limit_mb * _MB,
            "file_size_bytes": cfg.max_file_size_mb * _MB,
        }
        if self._cgroups is None and self._nproc_uid() is not None:
            limits["max_processes"] = cfg.max_processes
        env = dict(self._base_env)
        if python != self._python:  # a pip_requirements venv
            venv_dir = python.parent.parent
            env["VIRTUAL_ENV"] = str(venv_dir)
            env["PATH"] = f"{venv_dir / 'bin'}{os.pathsep}{env.get('PATH', os.defpath)}"
        # bwrap and its PID-namespace reaper count in the call's pids cgroup too
        max_pids = cfg.max_processes + 2 if jail.namespaces and cfg.max_processes > 0 else cfg.max_processes
        return SpawnSpec(python=python, env=env, cwd=cfg.exec_dir, limits=limits, max_pids=max_pids, jail=jail,
                         hidden_pth=server_pth_files())

    async def run(self, request: SandboxRequest) -> SandboxResult:
        if self._stack is None or self._venvs is None:
            raise SandboxClosedError("LocalSandbox")
        started = time.perf_counter()
        timeout_s = request.timeout_s if request.timeout_s is not None else self.config.timeout_s
        python = self._python
        if request.pip_requirements:
            try:
                python = await self._venvs.python_for(list(request.pip_requirements))
            except VenvCreationError as exc:
                return _error(f"Could not install the tool's pip_requirements: {exc}", started)
        runner: RunnerProcess | None = None
        while self._pool is not None and python == self._python:
            runner = await self._pool.take()
            if runner is None or runner.alive:
                break
            self._pool.found_dead()  # died while it waited: the next warm one, else a runner of its own
            self._dispose_later(runner)
            runner = None
        if runner is None:
            try:
                jail = await self._jail(python)
            except SandboxStartError as exc:
                return _error(f"Could not prepare the tool's interpreter: {exc}", started)
            runner = await spawn_runner(self._spec(python, jail), self._cgroups)
        job: dict[str, Any] = {
            "source_code": request.source_code,
            "function_name": request.function_name or last_function(request.source_code),
            "args": request.args,
            "env": {str(k): str(v) for k, v in request.env.items()},
            "agent_state": request.agent_state.to_json() if request.agent_state else None,
        }
        outcome = await execute(runner, job, timeout_s, self.config.max_output_bytes, self._cgroups)
        # The tree is already killed; reaping it, removing its cgroup and home and topping the pool up
        # happen a beat after the answer is returned (see _dispose and quiesce()).
        self._dispose_later(runner, refill=True)
        return _to_result(outcome, timeout_s, self.config, started)

    def _dispose_later(self, runner: RunnerProcess, *, refill: bool = False) -> None:
        assert self._tg is not None
        if self._pending == 0:
            self._idle = anyio.Event()
        self._pending += 1
        self._tg.start_soon(self._dispose, runner, refill)

    async def _dispose(self, runner: RunnerProcess, refill: bool = False) -> None:
        try:
            if refill:
                # The caller goes on with the answer (a turn: its step write and next model call): the
                # replacement's start (~35 ms of CPU) and this cleanup wait until then (``after_call_s``).
                # A pool left half empty or less started its refill when the call took its runner.
                with anyio.CancelScope(shield=True):
                    await anyio.sleep(self.config.after_call_s)
                if self._pool is not None:
                    self._pool.refill()
            await dispose(runner, self._cgroups)
        finally:
            self._pending -= 1
            if self._pending == 0:
                self._idle.set()

    @property
    def pool_stats(self) -> PoolStats | None:
        """The warm pool's counters (hits, misses, peak...), None without a pool."""
        return self._pool.stats if self._pool is not None else None

    async def wait_warm(self) -> None:
        """Wait until the warm pool holds the runners it keeps now (``warm_pool_size`` while calls come,
        ``warm_pool_idle_size`` after a quiet spell); returns at once without a pool."""
        if self._pool is not None:
            await self._pool.wait_full()

    async def quiesce(self) -> None:
        """Wait until every finished call's processes are reaped and its cgroup and home removed."""
        if self._pending:
            await self._idle.wait()


async def _check_usable(python: Path, cfg: LocalSandboxConfig, drop_to: tuple[int, int], runner: Path) -> None:
    """Without namespaces, tool code runs as ``drop_to``: its interpreter and runner must be readable."""
    code = f"import json, ssl; open({str(runner)!r}).close()"
    cwd = str(cfg.exec_dir) if cfg.exec_dir is not None else "/"
    try:
        with anyio.fail_after(30):
            proc = await anyio.run_process([str(python), "-I", "-c", code], check=False, cwd=cwd, env={"PATH": os.defpath},
                                           user=drop_to[0], group=drop_to[1], extra_groups=[])
    except (OSError, TimeoutError) as exc:
        raise SandboxStartError(f"the tool interpreter {python} is not usable by uid {drop_to[0]} (tools never run "
                                f"as root): {exc}. Install bubblewrap, or make it readable (chmod o+rX)") from exc
    if proc.returncode != 0:
        tail = proc.stderr.decode(errors="replace").strip()[-500:]
        raise SandboxStartError(
            f"the tool interpreter {python}, the runner {runner} or the directory {cwd} is not usable by "
            f"uid {drop_to[0]} (tools never run as root): {tail}. Install bubblewrap, or make them readable "
            "(chmod o+rX), or set sandbox_uid/sandbox_gid")


def last_function(source: str) -> str:
    """The function a request without a name calls: the last top-level ``def``, as the runner would pick it.
    Found here, where ``ast`` is loaded, so runners need not import it (empty when the source does not parse:
    the runner then reports why)."""
    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError, RecursionError, MemoryError):  # bad source is the runner's to report
        return ""
    names = [n.name for n in tree.body if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))]
    return names[-1] if names else ""


def _error(message: str, started: float, stdout: str = "", stderr: str = "") -> SandboxResult:
    return SandboxResult(
        status="error",
        error=message,
        stdout=[stdout] if stdout else [],
        stderr=[stderr] if stderr else [],
        duration_ms=(time.perf_counter() - started) * 1000,
    )


def _death_message(returncode: int | None, cfg: LocalSandboxConfig) -> str:
    if returncode is None or returncode >= 0:
        return f"Tool process exited with code {returncode} without returning a result"
    sig = -returncode
    if sig == signal.SIGXCPU:
        return f"Tool exceeded its CPU time limit of {cfg.cpu_seconds} s and was killed"
    if sig == signal.SIGXFSZ:
        return f"Tool exceeded the file size limit of {cfg.max_file_size_mb} MB and was killed"
    if sig == signal.SIGKILL:
        return f"Tool process was killed (SIGKILL; possibly out of memory, limit {cfg.memory_limit_mb} MB)"
    return f"Tool process died from signal {signal.Signals(sig).name}"


def _to_result(outcome: Outcome, timeout_s: float, cfg: LocalSandboxConfig, started: float) -> SandboxResult:
    if outcome.timed_out:
        return _error(
            f"Tool timed out after {timeout_s} s; the process tree was killed", started, outcome.stdout, outcome.stderr
        )
    raw = outcome.result
    if raw is None:
        return _error(_death_message(outcome.returncode, cfg), started, outcome.stdout, outcome.stderr)
    state = raw.get("agent_state")
    return SandboxResult(
        status="success" if raw.get("status") == "success" else "error",
        func_return=raw.get("func_return"),
        stdout=[outcome.stdout] if outcome.stdout else [],
        stderr=[outcome.stderr] if outcome.stderr else [],
        error=raw.get("error"),
        agent_state=AgentStateSnapshot.from_json(state) if state else None,
        duration_ms=(time.perf_counter() - started) * 1000,
    )
