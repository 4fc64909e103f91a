"""Warm runner processes: interpreters started ahead of need, each waiting for exactly one job.

A warm process has imported only the runner (stdlib), nothing of any tool, and
exits after its one call, so nothing leaks from one call to the next.

Refills run ahead of demand: once a take leaves the pool half empty or less, or finds it
short of an earlier call's replacement (calls coming one after another), the refiller
starts at once; above that, the caller tops it up with ``refill`` a beat after the call
(``LocalSandbox``: after the caller has used the answer), so a lone call does not share
the CPU with its replacement's start. Up to ``concurrency`` replacements start side by
side, so a burst of back-to-back calls keeps finding warm runners.  The pool never holds
more than ``size`` warm processes (ready plus starting); runners handed to a call
are the call's, disposed of after it.  After a quiet spell (``idle_after_s``) it
keeps only ``idle_size`` (memory), and the next call brings it back to ``size``.
"""

from __future__ import annotations

import logging
import math
from collections import deque
from dataclasses import dataclass

import anyio
from anyio.abc import TaskGroup, TaskStatus

from ._cgroup import PidsCgroups
from ._process import RunnerProcess, SpawnSpec, dispose, spawn_runner

logger = logging.getLogger(__name__)

_RETRY_AFTER_FAILURE_S = 1.0
_MAX_WAIT_S = 5.0  # a warm start normally takes 30-100 ms


@dataclass(frozen=True)
class PoolStats:
    """Counters of a warm pool since it started (``LocalSandbox.pool_stats``)."""

    size: int  # the bound: warm processes (ready + starting) never exceed it
    ready: int
    starting: int
    hits: int  # calls served by a runner that was already warm
    waited: int  # calls that waited for a warm runner already starting (sooner than starting their own)
    misses: int  # calls that found nothing ready or starting for them and started their own interpreter
    started: int  # warm runners that finished booting
    peak: int  # the most warm processes (ready + starting) alive at once
    target: int  # how many it keeps now: ``size`` while calls come, ``idle_size`` after a quiet spell
    dead: int = 0  # warm runners found dead when taken (then disposed of; the call took the next one)


class WarmPool:
    def __init__(self, size: int, spec: SpawnSpec, cgroups: PidsCgroups | None, *, concurrency: int = 2,
                 idle_size: int | None = None, idle_after_s: float = 60.0) -> None:
        if size < 1 or concurrency < 1:
            raise ValueError(f"a warm pool needs size >= 1 and concurrency >= 1 (got {size}, {concurrency})")
        self.size = size
        self.idle_size = size if idle_size is None else max(0, min(idle_size, size))
        self.idle_after_s = idle_after_s
        self._target = size
        self.spec = spec
        self.concurrency = concurrency
        self._cgroups = cgroups
        self._ready: deque[RunnerProcess] = deque()
        self._starting = 0
        self._waiting = 0
        self._failed = False
        self._hits = self._waited = self._misses = self._started = self._peak = self._dead = 0
        self._wake = anyio.Event()
        self._changed = anyio.Event()
        self._full = anyio.Event()

    @property
    def stats(self) -> PoolStats:
        return PoolStats(size=self.size, ready=len(self._ready), starting=self._starting, hits=self._hits,
                         waited=self._waited, misses=self._misses, started=self._started, peak=self._peak,
                         target=self._target, dead=self._dead)

    async def run(self, *, task_status: TaskStatus[None] = anyio.TASK_STATUS_IGNORED) -> None:
        """Keep ``size`` runners ready until cancelled; started with ``TaskGroup.start``. After ``idle_after_s``
        without a call or a start, the spare ones beyond ``idle_size`` are disposed of; the next call brings
        the pool back to ``size``."""
        async with anyio.create_task_group() as tg:
            task_status.started()
            while True:
                self._wake = anyio.Event()
                if self._failed:  # no tight loop of failing starts
                    self._failed = False
                    await anyio.sleep(_RETRY_AFTER_FAILURE_S)
                    continue
                self._top_up(tg)
                quiet = self.idle_after_s if self._target > self.idle_size else math.inf
                with anyio.move_on_after(quiet):
                    await self._wake.wait()
                if not self._wake.is_set():  # a quiet spell: keep fewer interpreters (memory) until calls come
                    self._target = self.idle_size
                    while len(self._ready) > self._target:
                        tg.start_soon(dispose, self._ready.popleft(), self._cgroups)

    def _top_up(self, tg: TaskGroup) -> None:
        while self._starting < self.concurrency and len(self._ready) + self._starting < self._target:
            self._starting += 1
            self._peak = max(self._peak, len(self._ready) + self._starting)
            tg.start_soon(self._start_one)
        if not self._starting and len(self._ready) >= self._target:
            self._full.set()

    async def _start_one(self) -> None:
        try:
            runner = await spawn_runner(self.spec, self._cgroups, warm=True)
        except (OSError, TimeoutError, anyio.EndOfStream):
            logger.exception("could not start a warm sandbox runner with %s", self.spec.python)
            self._failed = True
        else:
            self._ready.append(runner)
            self._started += 1
        finally:
            self._starting -= 1
            self._wake.set()
            self._changed.set()
            self._changed = anyio.Event()

    async def take(self) -> RunnerProcess | None:
        """A warm runner (check ``alive``), or None: then the caller starts its own. Refills start now if the pool
        is running low, else when the call calls ``refill``.

        With nothing ready, a caller waits for a runner that is already starting and that no other caller
        waits for: it is up sooner than one started from scratch, and starting a third interpreter
        beside them would only slow all of them down.
        """
        self._target = self.size
        if 2 * (len(self._ready) - 1) <= self.size or len(self._ready) + self._starting < self._target:
            # half empty or less, or a call's replacement still to start (calls are coming one after another):
            # refill now, ahead of the calls to come
            self._wake.set()
        if self._full.is_set():
            self._full = anyio.Event()
        waited = False
        while not self._ready:
            if self._waiting >= self._starting:
                self._misses += 1
                return None
            waited = True
            self._waiting += 1
            try:
                with anyio.move_on_after(_MAX_WAIT_S) as scope:
                    await self._changed.wait()
            finally:
                self._waiting -= 1
            if scope.cancelled_caught:  # a start that hangs: do not hang with it
                self._misses += 1
                return None
        if waited:
            self._waited += 1
        else:
            self._hits += 1
        return self._ready.popleft()

    def found_dead(self) -> None:
        """A runner ``take`` returned had died while it waited (counted in ``stats.dead``)."""
        self._dead += 1
        self._wake.set()

    def refill(self) -> None:
        """A call has finished and its caller has gone on: top the pool up (a pool still more than half full
        waits for this or the next call, so a single call does not share the CPU with its replacement's
        start)."""
        self._wake.set()

    async def wait_full(self) -> None:
        await self._full.wait()

    async def aclose(self) -> None:
        with anyio.CancelScope(shield=True):
            while self._ready:
                await dispose(self._ready.popleft(), self._cgroups)
