"""Custom Python tools run in a sandbox: the local subprocess backend or E2B, chosen explicitly.

The router owns the open backends. ``host.services.sandbox_configs`` computes a :class:`SandboxPlan`
from the stored sandbox configs and the settings and hands it to :meth:`SandboxRouter.reload`; a
backend whose configuration changed is reopened and the old one is closed once its calls finish.
Environment-variable changes only swap ``base_env`` (no restart).

Environment of a call, lowest priority first: the active sandbox config's env vars (``base_env``),
then the agent's ``tool_exec_environment_variables`` (or the ``env_vars`` of ``/v1/tools/run``).
The values of that environment are redacted from the run's error text, stdout and stderr
(``redact_result``, rule in ``mcp_client.redaction``).
The server's own environment never reaches tool code (``sandbox`` builds it from an allowlist), and
keys the server hands to built-in tools (``withheld``) are dropped when they arrive unchanged.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

import anyio
from anyio.abc import TaskGroup, TaskStatus

from host.domain.letta import ToolReturnMessage
from mcp_client import Redactor, env_secrets
from sandbox import (
    AgentStateSnapshot,
    BlockSnapshot,
    E2BSandbox,
    E2BSandboxConfig,
    LocalSandbox,
    LocalSandboxConfig,
    Sandbox,
    SandboxRequest,
    SandboxResult,
    last_function,
    recreate_venv,
)

logger = logging.getLogger(__name__)

_RETIRE_GRACE_S = 600.0


def requirement_specs(reqs: list[dict[str, Any]] | None) -> list[str]:
    """Letta's ``[{"name", "version"}]`` as pip requirement strings."""
    out = []
    for r in reqs or []:
        name = str(r.get("name") or "").strip()
        if name:
            version = str(r.get("version") or "").strip()
            out.append(f"{name}=={version}" if version and version[0] not in "<>=!~" else name + version)
    return out


@dataclass(frozen=True)
class SandboxPlan:
    """What the custom-tool sandboxes should be. ``e2b`` set means: E2B runs every custom tool."""

    local: LocalSandboxConfig
    local_env: Mapping[str, str] = field(default_factory=dict)
    local_requirements: tuple[str, ...] = ()
    timeout_s: float | None = None
    e2b: E2BSandboxConfig | None = None
    e2b_env: Mapping[str, str] = field(default_factory=dict)

    @property
    def kind(self) -> Literal["local", "e2b"]:
        return "e2b" if self.e2b is not None else "local"


class _Backend:
    """One open backend and the calls currently using it.

    A sandbox holds a task group, so one task enters and leaves it: :meth:`host`, started in the
    router's task group, which leaves once a close was requested and the last call finished.
    """

    def __init__(self, sandbox: Any, kind: str) -> None:
        self.sandbox = sandbox
        self.kind = kind
        self._active = 0
        self._idle = anyio.Event()
        self._idle.set()
        self._close_requested = anyio.Event()
        self._closed = anyio.Event()
        self._grace_s = _RETIRE_GRACE_S

    async def host(self, *, task_status: TaskStatus[_Backend] = anyio.TASK_STATUS_IGNORED) -> None:
        try:
            async with self.sandbox:
                task_status.started(self)
                await self._close_requested.wait()
                with anyio.move_on_after(self._grace_s):
                    await self._idle.wait()
        finally:
            self._closed.set()
        logger.info("closed a %s sandbox", self.kind)

    def acquire(self) -> None:
        if self._active == 0:
            self._idle = anyio.Event()
        self._active += 1

    def release(self) -> None:
        self._active -= 1
        if self._active == 0:
            self._idle.set()

    def retire(self, grace_s: float = _RETIRE_GRACE_S) -> None:
        """Close once the calls in flight finished (or after ``grace_s``)."""
        self._grace_s = grace_s
        self._close_requested.set()

    async def close(self, grace_s: float = _RETIRE_GRACE_S) -> None:
        self.retire(grace_s)
        with anyio.CancelScope(shield=True):
            await self._closed.wait()


class SandboxRouter:
    """``async with SandboxRouter() as r: await r.reload(loader); await r.run_tool(...)``."""

    def __init__(self, *, withheld: Mapping[str, str] | None = None, max_concurrency: int = 32) -> None:
        self.withheld = dict(withheld or {})
        self._limiter = anyio.CapacityLimiter(max_concurrency)
        self._lock = anyio.Lock()
        self._plan: SandboxPlan | None = None
        self._local: _Backend | None = None
        self._e2b: _Backend | None = None
        self._tg: TaskGroup | None = None
        self._stack: AsyncExitStack | None = None

    async def __aenter__(self) -> SandboxRouter:
        async with AsyncExitStack() as stack:
            self._tg = await stack.enter_async_context(anyio.create_task_group())
            stack.push_async_callback(self._close_current)  # before the task group joins the backends' tasks
            self._stack = stack.pop_all()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        stack, self._stack = self._stack, None
        if stack is not None:
            await stack.aclose()

    async def _close_current(self) -> None:
        for backend in (self._e2b, self._local):
            if backend is not None:
                await backend.close(grace_s=30.0)
        self._e2b = self._local = None

    @property
    def plan(self) -> SandboxPlan | None:
        return self._plan

    @property
    def kind(self) -> str:
        return self._plan.kind if self._plan is not None else "local"

    @property
    def local(self) -> Sandbox | None:
        return self._local.sandbox if self._local is not None else None

    async def reload(self, load: Callable[[], Awaitable[SandboxPlan]]) -> SandboxPlan:
        """Load the plan (under the lock, so the latest one wins) and apply it."""
        async with self._lock:
            plan = await load()
            await self._apply(plan)
            return plan

    async def apply(self, plan: SandboxPlan) -> None:
        async with self._lock:
            await self._apply(plan)

    async def _apply(self, plan: SandboxPlan) -> None:
        old = self._plan
        opened: list[_Backend] = []
        try:
            new_local = self._local
            if old is None or self._local is None or plan.local != old.local:
                if plan.local.exec_dir is not None:
                    await anyio.Path(plan.local.exec_dir).mkdir(parents=True, exist_ok=True)
                new_local = await self._open(LocalSandbox(plan.local), "local")
                opened.append(new_local)
            new_e2b = self._e2b
            if plan.e2b != (old.e2b if old is not None else None) or (plan.e2b is not None and self._e2b is None):
                new_e2b = await self._open(E2BSandbox(plan.e2b), "e2b") if plan.e2b is not None else None
                if new_e2b is not None:
                    opened.append(new_e2b)
        except BaseException:
            for backend in opened:
                await backend.close(grace_s=0)
            raise
        for previous, current in ((self._local, new_local), (self._e2b, new_e2b)):
            if previous is not None and previous is not current:
                self._retire(previous)
        self._local, self._e2b, self._plan = new_local, new_e2b, plan
        logger.info("custom tools run in the %s sandbox (%d local and %d e2b env vars)", plan.kind,
                    len(plan.local_env), len(plan.e2b_env))

    async def _open(self, sandbox: Any, kind: str) -> _Backend:
        assert self._tg is not None, "the sandbox router is not open"
        backend: _Backend = await self._tg.start(_Backend(sandbox, kind).host)
        return backend

    def _retire(self, backend: _Backend) -> None:
        backend.retire()

    async def recreate_local_venv(self) -> Path:
        """Rebuild ``sandbox_dir/venv_name`` from its requirements.txt, then reopen the local sandbox."""
        async with self._lock:
            if self._plan is None:
                raise RuntimeError("the sandbox router has no plan yet")
            cfg = self._plan.local
            python = await recreate_venv(_with_venv(cfg))
            if cfg.use_venv:  # running interpreters came from the deleted venv: start fresh ones
                new_local = await self._open(LocalSandbox(cfg), "local")
                if self._local is not None:
                    self._retire(self._local)
                self._local = new_local
            return python

    @asynccontextmanager
    async def _lease(self) -> AsyncIterator[tuple[_Backend, SandboxPlan]]:
        plan, backend = self._plan, None
        if plan is not None:
            backend = self._e2b if plan.e2b is not None else self._local
        if plan is None or backend is None:
            raise RuntimeError("the sandbox router is not open")
        backend.acquire()
        try:
            yield backend, plan
        finally:
            backend.release()

    async def _run(self, request: SandboxRequest, extra_env: Mapping[str, str],
                   pip: list[str]) -> SandboxResult:
        async with self._limiter, self._lease() as (backend, plan):
            base = plan.e2b_env if backend.kind == "e2b" else plan.local_env
            reqs = pip + [r for r in plan.local_requirements if r not in pip] if backend.kind == "local" else pip
            timeout = request.timeout_s if request.timeout_s is not None else plan.timeout_s
            full = SandboxRequest(
                source_code=request.source_code, function_name=request.function_name, args=request.args,
                env={**base, **extra_env}, pip_requirements=reqs, timeout_s=timeout,
                agent_state=request.agent_state, reuse_key=request.reuse_key,
            )
            return redact_result(await backend.sandbox.run(full), Redactor(env_secrets(full.env)))

    async def run_tool(self, *, source_code: str, function_name: str, args: dict[str, Any], env: dict[str, str],
                       pip_requirements: list[dict[str, Any]] | None, agent_id: str | None, agent_name: str,
                       blocks: list[tuple[str, str, int, str | None, bool]] | None) -> SandboxResult:
        """One call of an agent's custom tool (from the dispatcher)."""
        state = None
        if agent_id is not None:
            state = AgentStateSnapshot(id=agent_id, name=agent_name, blocks=[
                BlockSnapshot(label=b[0], value=b[1], limit=b[2], description=b[3], read_only=b[4])
                for b in blocks or []])
        agent_env = {k: v for k, v in env.items() if self.withheld.get(k) != v}
        request = SandboxRequest(source_code=source_code, function_name=function_name, args=args,
                                 agent_state=state, reuse_key=agent_id)
        return await self._run(request, agent_env, requirement_specs(pip_requirements))

    async def run_source(self, *, source_code: str, function_name: str, args: dict[str, Any],
                         env: Mapping[str, str], pip_requirements: list[str],
                         timeout_s: float | None = None) -> SandboxResult:
        """One call of source code that is not a stored tool (``POST /v1/tools/run``)."""
        request = SandboxRequest(source_code=source_code, function_name=function_name, args=args,
                                 timeout_s=timeout_s)
        return await self._run(request, dict(env), list(pip_requirements))


def redact_result(result: SandboxResult, redact: Redactor) -> SandboxResult:
    """The run's error text and output streams without the values of its environment (the sandbox config's
    and the agent's variables): they reach answers, the model and logs. The return value is the tool's
    own answer and stays as it is."""
    if not redact:
        return result
    return replace(result, error=redact.optional(result.error), stdout=redact.lines(result.stdout),
                   stderr=redact.lines(result.stderr))


def _with_venv(cfg: LocalSandboxConfig) -> LocalSandboxConfig:
    from dataclasses import replace

    return replace(cfg, use_venv=True, venv_name=cfg.venv_name or "venv")


def function_name_for(source_code: str, name: str | None = None, json_schema: dict[str, Any] | None = None) -> str:
    """The function ``/v1/tools/run`` calls: ``name``, else the schema's name, else the last top-level def."""
    if name:
        return name
    if json_schema and isinstance(json_schema.get("name"), str) and json_schema["name"]:
        return str(json_schema["name"])
    return last_function(source_code)


def tool_return_message(result: SandboxResult, function_name: str) -> dict[str, Any]:
    """Letta's ``ToolReturnMessage`` for a run outside any agent (ids are the literal ``"null"``, as Letta's)."""
    if result.status == "success":
        value = result.func_return
        text = value if isinstance(value, str) else str(value)
    else:
        text = f"Error executing function {function_name or '<unknown>'}: {result.error or 'the tool failed'}"
    stderr = list(result.stderr)
    if result.status == "error" and result.error and not "".join(stderr).strip():
        stderr.append(result.error + "\n")
    return ToolReturnMessage(id="null", date=datetime.now(UTC).replace(microsecond=0).isoformat(), tool_return=text,
                             status=result.status, tool_call_id="null", stdout=list(result.stdout),
                             stderr=stderr).to_json()
