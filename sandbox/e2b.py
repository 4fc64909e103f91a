"""The E2B backend: tool code runs in an E2B cloud sandbox through ``e2b-code-interpreter``.

Sandboxes are reused per ``reuse_key`` (the agent id) while used within
``ttl_s``; requests without a key get a sandbox of their own that is killed
after the call.  A call that times out kills its sandbox (its kernel state is
unknown).  Leaving the ``async with`` kills every sandbox.  Per-call
environment variables travel as ``run_code(envs=...)``; see ``_job`` for how the
job reaches the kernel without splicing arguments into code.
"""

from __future__ import annotations

import logging
import time
from contextlib import AsyncExitStack
from dataclasses import dataclass, field
from typing import Any, Self

import anyio

from ._exceptions import SandboxClosedError, SandboxStartError
from ._job import bound, build_pip_code, build_remote_code, new_marker, split_result
from ._types import AgentStateSnapshot, SandboxRequest, SandboxResult
from .config import E2BSandboxConfig

logger = logging.getLogger(__name__)


@dataclass
class _Entry:
    sandbox: Any  # e2b_code_interpreter.AsyncSandbox (imported lazily)
    last_used: float = field(default_factory=time.monotonic)
    installed: set[str] = field(default_factory=set)
    lock: anyio.Lock = field(default_factory=anyio.Lock)


class E2BSandbox:
    def __init__(self, config: E2BSandboxConfig) -> None:
        self.config = config
        self._entries: dict[str, _Entry] = {}
        self._create_locks: dict[str, anyio.Lock] = {}
        self._stack: AsyncExitStack | None = None

    async def __aenter__(self) -> Self:
        async with AsyncExitStack() as stack:
            tg = await stack.enter_async_context(anyio.create_task_group())
            stack.callback(tg.cancel_scope.cancel)
            stack.push_async_callback(self._kill_all)
            tg.start_soon(self._reap_forever)
            self._stack = stack.pop_all()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        stack, self._stack = self._stack, None
        if stack is not None:
            await stack.aclose()

    def _api_params(self) -> dict[str, Any]:
        cfg = self.config
        params: dict[str, Any] = {"api_key": cfg.api_key, "request_timeout": cfg.request_timeout_s}
        if cfg.api_url:
            params["api_url"] = cfg.api_url
        if cfg.sandbox_url:
            params["sandbox_url"] = cfg.sandbox_url
        return params

    async def _create(self) -> _Entry:
        from e2b_code_interpreter import AsyncSandbox

        cfg = self.config
        try:
            with anyio.fail_after(cfg.request_timeout_s + 30):
                sandbox = await AsyncSandbox.create(template=cfg.template, timeout=cfg.timeout_s, **self._api_params())
        except Exception as exc:
            raise SandboxStartError(f"could not create an E2B sandbox (template {cfg.template!r}): {exc}") from exc
        logger.info("created E2B sandbox %s", sandbox.sandbox_id)
        return _Entry(sandbox=sandbox)

    async def _kill(self, entry: _Entry) -> None:
        with anyio.CancelScope(shield=True), anyio.move_on_after(self.config.request_timeout_s):
            try:
                await entry.sandbox.kill()
                logger.info("killed E2B sandbox %s", entry.sandbox.sandbox_id)
            except Exception:
                logger.exception("could not kill E2B sandbox %s", entry.sandbox.sandbox_id)

    async def _kill_all(self) -> None:
        entries, self._entries = list(self._entries.values()), {}
        for entry in entries:
            await self._kill(entry)

    async def _reap_forever(self) -> None:
        interval = max(min(self.config.ttl_s / 2, 30.0), 0.05)
        while True:
            await anyio.sleep(interval)
            await self.reap_expired()

    async def reap_expired(self) -> None:
        """Kill sandboxes idle for longer than ``ttl_s`` (also run periodically)."""
        now = time.monotonic()
        for key, entry in list(self._entries.items()):
            if now - entry.last_used > self.config.ttl_s and not entry.lock.locked():
                self._entries.pop(key, None)
                await self._kill(entry)

    async def _acquire(self, key: str) -> _Entry:
        async with self._create_locks.setdefault(key, anyio.Lock()):
            entry = self._entries.get(key)
            if entry is not None and time.monotonic() - entry.last_used > self.config.ttl_s:
                self._entries.pop(key, None)
                await self._kill(entry)
                entry = None
            if entry is None:
                entry = await self._create()
                self._entries[key] = entry
            return entry

    async def run(self, request: SandboxRequest) -> SandboxResult:
        if self._stack is None:
            raise SandboxClosedError("E2BSandbox")
        started = time.perf_counter()
        entry = await self._acquire(request.reuse_key) if request.reuse_key else await self._create()
        async with entry.lock:
            try:
                result, healthy = await self._run_in(entry, request, started)
            finally:
                entry.last_used = time.monotonic()
        if not request.reuse_key or not healthy:
            if request.reuse_key and self._entries.get(request.reuse_key) is entry:
                del self._entries[request.reuse_key]
            await self._kill(entry)
        return result

    async def _run_in(self, entry: _Entry, request: SandboxRequest, started: float) -> tuple[SandboxResult, bool]:
        from e2b import TimeoutException

        cfg = self.config
        timeout_s = request.timeout_s if request.timeout_s is not None else cfg.exec_timeout_s
        missing = [r for r in [*cfg.pip_requirements, *request.pip_requirements] if r not in entry.installed]
        try:
            if missing:
                with anyio.fail_after(max(timeout_s, 300) + cfg.request_timeout_s):
                    execution = await entry.sandbox.run_code(build_pip_code(missing), timeout=max(timeout_s, 300))
                if execution.error is not None:
                    logs = "".join(execution.logs.stderr)
                    return _error(f"Could not install pip requirements {missing}: {execution.error.value}", started, "", bound(logs, cfg.max_output_bytes)), True
                entry.installed.update(missing)
            marker = new_marker()
            code = build_remote_code(_job(request), marker)
            with anyio.fail_after(timeout_s + cfg.request_timeout_s):
                execution = await entry.sandbox.run_code(code, envs=dict(request.env) or None, timeout=timeout_s)
        except (TimeoutException, TimeoutError):
            return _error(f"Tool timed out after {timeout_s} s; the E2B sandbox was killed", started), False
        except Exception as exc:
            raise SandboxStartError(f"E2B sandbox {entry.sandbox.sandbox_id} failed: {exc}") from exc
        raw, stdout = split_result("".join(execution.logs.stdout), marker)
        stdout = bound(stdout, cfg.max_output_bytes)
        stderr = bound("".join(execution.logs.stderr), cfg.max_output_bytes)
        if raw is None:
            err = execution.error
            message = f"{err.name}: {err.value}" if err is not None else "the E2B kernel returned no result"
            if err is not None and err.traceback:
                stderr = bound(stderr + err.traceback, cfg.max_output_bytes)
            return _error(message, started, stdout, stderr), True
        state = raw.get("agent_state")
        return (
            SandboxResult(
                status="success" if raw.get("status") == "success" else "error",
                func_return=raw.get("func_return"),
                stdout=[stdout] if stdout else [],
                stderr=[stderr] if stderr else [],
                error=raw.get("error"),
                agent_state=AgentStateSnapshot.from_json(state) if state else None,
                duration_ms=(time.perf_counter() - started) * 1000,
            ),
            True,
        )


def _job(request: SandboxRequest) -> dict[str, Any]:
    return {
        "source_code": request.source_code,
        "function_name": request.function_name,
        "args": request.args,
        "env": {},  # passed as run_code(envs=...) so they do not persist in the kernel
        "agent_state": request.agent_state.to_json() if request.agent_state else None,
    }


def _error(message: str, started: float, stdout: str = "", stderr: str = "") -> SandboxResult:
    return SandboxResult(
        status="error",
        error=message,
        stdout=[stdout] if stdout else [],
        stderr=[stderr] if stderr else [],
        duration_ms=(time.perf_counter() - started) * 1000,
    )
