"""Warm runner processes: interpreters started ahead of need, each waiting for exactly one job.

A warm process has imported only the runner (stdlib), nothing of any tool, and
exits after its one call, so nothing leaks from one call to the next.  Refills
happen when a call has finished (``refill()``), so spawning a replacement does
not compete with the call that just took a runner.
"""

from __future__ import annotations

import logging
from collections import deque

import anyio
from anyio.abc import TaskStatus

from ._cgroup import PidsCgroups
from ._process import RunnerProcess, SpawnSpec, dispose, spawn_runner

logger = logging.getLogger(__name__)

_RETRY_AFTER_FAILURE_S = 1.0


class WarmPool:
    def __init__(self, size: int, spec: SpawnSpec, cgroups: PidsCgroups | None) -> None:
        self.size = size
        self.spec = spec
        self._cgroups = cgroups
        self._ready: deque[RunnerProcess] = deque()
        self._wake = anyio.Event()
        self._full = anyio.Event()

    async def run(self, *, task_status: TaskStatus[None] = anyio.TASK_STATUS_IGNORED) -> None:
        """Keep ``size`` runners ready until cancelled; started with ``TaskGroup.start``."""
        task_status.started()
        while True:
            while len(self._ready) < self.size:
                try:
                    runner = await spawn_runner(self.spec, self._cgroups, warm=True)
                except (OSError, TimeoutError, anyio.EndOfStream):
                    logger.exception("could not start a warm sandbox runner with %s", self.spec.python)
                    await anyio.sleep(_RETRY_AFTER_FAILURE_S)
                    continue
                self._ready.append(runner)
            self._full.set()
            self._wake = anyio.Event()
            await self._wake.wait()

    def take(self) -> RunnerProcess | None:
        """A ready runner (check ``alive``), or None when the pool is empty."""
        if not self._ready:
            return None
        if self._full.is_set():
            self._full = anyio.Event()
        return self._ready.popleft()

    def refill(self) -> None:
        self._wake.set()

    async def wait_full(self) -> None:
        await self._full.wait()

    async def aclose(self) -> None:
        with anyio.CancelScope(shield=True):
            while self._ready:
                await dispose(self._ready.popleft(), self._cgroups)
