"""The warm pool: refills ahead of demand (a burst keeps finding warm runners) and never exceeds its size.

Observed through the pool's counters (``LocalSandbox.pool_stats``), never through timing.
"""

import dataclasses
import tempfile
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path

import anyio
import pytest

from sandbox import LocalSandbox, LocalSandboxConfig, PoolStats, SandboxRequest
from tests.support.waiting import wait_until_async

pytestmark = pytest.mark.anyio

ADD = "def add(a: int, b: int) -> int:\n    return a + b\n"
MARK = (
    "import os, tempfile\n"
    "def mark(name: str) -> str:\n"
    "    open(os.path.join(tempfile.gettempdir(), name), 'w').close()\n"
    "    return name\n"
)


async def test_a_burst_of_back_to_back_calls_is_served_by_warm_runners(local_config):
    config = dataclasses.replace(local_config, warm_pool_size=3)
    async with LocalSandbox(config) as sb:
        with anyio.fail_after(20):
            await sb.wait_warm()
        observed = []
        for i in range(10):  # more calls than the pool holds, one after the other
            result = await sb.run(SandboxRequest(source_code=ADD, args={"a": i, "b": 1}))
            assert result.status == "success" and result.func_return == i + 1
            stats = sb.pool_stats
            assert stats is not None
            observed.append(stats.ready + stats.starting)
        stats = sb.pool_stats
    assert stats is not None
    # every call got an interpreter the pool had started: ready, or already booting when the call came
    assert stats.misses == 0 and stats.hits + stats.waited == 10
    assert stats.hits >= 3  # the ones waiting at the start
    assert stats.started >= 10  # the pool kept starting replacements during the burst
    assert stats.peak <= 3 and max(observed) <= 3


@pytest.mark.parametrize(("size", "refilled_during_the_call"), [(1, True), (2, True), (4, False)])
async def test_a_pool_running_low_refills_while_the_call_runs_a_fuller_one_after_it(
        local_config, size: int, refilled_during_the_call: bool):
    config = dataclasses.replace(local_config, warm_pool_size=size)
    slow = "import time\ndef wait() -> str:\n    time.sleep(60)\n    return 'late'\n"
    async with _warm(config) as (sb, stats):
        async with anyio.create_task_group() as tg:
            tg.start_soon(sb.run, SandboxRequest(source_code=slow))
            if refilled_during_the_call:  # the slow call holds a runner; its replacement boots meanwhile
                await wait_until_async(lambda: stats().hits == 1 and stats().ready == size,
                                       what=lambda: f"a replacement ready during the call: {stats()}")
            else:  # more than half the pool is left: the refill waits for the call's end (no CPU race)
                await wait_until_async(lambda: stats().hits == 1, what=lambda: f"the call took a runner: {stats()}")
                assert stats().ready == size - 1 and stats().starting == 0
            tg.cancel_scope.cancel()
        result = await sb.run(SandboxRequest(source_code=ADD, args={"a": 1, "b": 1}))
        await wait_until_async(lambda: stats().ready == size and stats().starting == 0,
                               what=lambda: f"topped up after the calls: {stats()}")
        final = stats()
    assert result.func_return == 2
    assert final.hits == 2 and final.misses == 0 and final.peak == size


async def test_a_fuller_pool_tops_up_and_cleans_up_after_the_caller_has_its_answer_not_while(local_config):
    """The caller goes on with the answer (a turn writes its step and calls the model again): the replacement's
    start and the used runner's cleanup wait a beat (``after_call_s``), so they do not take the CPU from it.
    A second call within that beat is a burst: the refill starts at once."""
    config = dataclasses.replace(local_config, warm_pool_size=6, after_call_s=1.0)
    async with _warm(config) as (sb, stats):
        marker = f"marker-{uuid.uuid4().hex}"
        first = await sb.run(SandboxRequest(source_code=MARK, args={"name": marker}))
        await anyio.sleep(0.1)  # the event loop runs what was due: not yet the cleanup or the refill
        after_one = stats()
        home_after_one = _homes_holding(marker)
        second = await sb.run(SandboxRequest(source_code=ADD, args={"a": 2, "b": 3}))
        await anyio.sleep(0.1)
        after_two = stats()
        await wait_until_async(lambda: stats().ready == 6 and stats().starting == 0,
                               what=lambda: f"topped up: {stats()}")
        await sb.quiesce()
        home_later = _homes_holding(marker)
    assert first.status == "success" and second.func_return == 5, (first, second)
    assert after_one.ready == 5 and after_one.starting == 0, after_one
    assert len(home_after_one) == 1  # the used runner's private /tmp: not removed yet
    # more than half the pool was left, but the burst's refill did not wait for the beat
    assert after_two.ready + after_two.starting == 6, after_two
    assert home_later == []  # removed since


def _homes_holding(name: str) -> list[Path]:
    return list(Path(tempfile.gettempdir()).glob(f"agenthost-tool-*/{name}"))


async def test_concurrent_calls_beyond_the_pool_start_their_own_and_the_pool_stays_within_its_size(local_config):
    config = dataclasses.replace(local_config, warm_pool_size=2)
    results: dict[int, object] = {}
    async with LocalSandbox(config) as sb:
        with anyio.fail_after(20):
            await sb.wait_warm()

        async def one(i: int) -> None:
            results[i] = (await sb.run(SandboxRequest(source_code=ADD, args={"a": i, "b": 1}))).func_return

        with anyio.fail_after(60):
            async with anyio.create_task_group() as tg:
                for i in range(12):
                    tg.start_soon(one, i)
            await sb.wait_warm()  # refilled to its size after the burst, not beyond
        stats = sb.pool_stats
    assert results == {i: i + 1 for i in range(12)}
    assert stats is not None
    assert stats.hits + stats.waited + stats.misses == 12
    assert stats.misses >= 1  # calls past what the pool holds and is starting do not queue behind it
    assert stats.peak == 2 and stats.ready == 2 and stats.starting == 0


async def test_after_a_quiet_spell_the_pool_keeps_fewer_and_the_next_call_brings_it_back(local_config):
    config = dataclasses.replace(local_config, warm_pool_size=3, warm_pool_idle_size=1, warm_pool_idle_s=2.0)
    async with LocalSandbox(config) as sb:

        def stats():
            s = sb.pool_stats
            assert s is not None
            return s

        await wait_until_async(lambda: stats().ready == 3, what=lambda: f"three warm runners: {stats()}")
        await wait_until_async(lambda: stats().target == 1 and stats().ready == 1 and stats().starting == 0,
                               what=lambda: f"the pool shrunk to one after the quiet spell: {stats()}")
        result = await sb.run(SandboxRequest(source_code=ADD, args={"a": 2, "b": 2}))
        assert result.func_return == 4
        assert stats().target == 3  # the call brought it back to its size
        await wait_until_async(lambda: stats().ready == 3, what=lambda: f"refilled to three: {stats()}")
        assert stats().peak == 3 and stats().hits == 1


async def test_warm_runners_outlive_the_worker_threads_idle_around_them(local_config):
    """``bwrap --die-with-parent`` kills a sandbox when the thread that started it exits, and anyio ends a worker
    thread once it has been idle ten seconds (on the next call into a worker thread). Runners are started on
    threads of their own: after anyio has ended every idle worker thread, the warm ones are all still alive,
    and a call that outlives such a thread still gets its answer."""
    config = dataclasses.replace(local_config, warm_pool_size=2)
    slow = "import time\ndef wait() -> str:\n    time.sleep(12)\n    return 'late'\n"
    async with LocalSandbox(config) as sb:
        with anyio.fail_after(20):
            await sb.wait_warm()
        async with anyio.create_task_group() as tg:
            answers: list[object] = []

            async def long_call() -> None:
                answers.append((await sb.run(SandboxRequest(source_code=slow, timeout_s=40))).func_return)

            tg.start_soon(long_call)
            await anyio.sleep(11)  # every worker thread of this loop is idle past anyio's ten seconds ...
            await anyio.to_thread.run_sync(lambda: None)  # ... and this call into one ends them
            await anyio.to_thread.run_sync(lambda: None)
        for i in range(2):
            result = await sb.run(SandboxRequest(source_code=ADD, args={"a": i, "b": 1}))
            assert result.status == "success" and result.func_return == i + 1, result
        stats = sb.pool_stats
    assert answers == ["late"]
    assert stats is not None and stats.dead == 0, stats


@asynccontextmanager
async def _warm(config: LocalSandboxConfig) -> AsyncIterator[tuple[LocalSandbox, Callable[[], PoolStats]]]:
    """A sandbox whose pool is full, and a reader of its counters."""
    async with LocalSandbox(config) as sb:

        def stats() -> PoolStats:
            s = sb.pool_stats
            assert s is not None
            return s

        with anyio.fail_after(20):
            await sb.wait_warm()
        yield sb, stats
