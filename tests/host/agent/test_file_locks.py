"""Byte-range locks on one file (``host.agent.file_locks``): what the SQLite workers' agent locks rest on.

Two ``FileLocks`` on one path are two open file descriptions, which is what two worker processes have: the
kernel makes them exclude each other even inside one test process. A real second process shows that a lock
dies with its holder, however the holder dies.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import anyio
import pytest

from host.agent.file_locks import FileLocks, offset_of

pytestmark = pytest.mark.anyio


@pytest.fixture
def path(tmp_path: Path) -> Path:
    return tmp_path / "agent-turns.lock"


def test_two_open_files_exclude_each_other_per_name(path):
    a, b = FileLocks(path), FileLocks(path)
    try:
        assert a.try_lock("agent-1")
        assert not b.try_lock("agent-1")
        assert b.try_lock("agent-2"), "another agent's byte is free"
        a.unlock("agent-1")
        assert b.try_lock("agent-1")
    finally:
        a.close()
        b.close()


def test_offsets_are_62_bit_and_stable():
    offsets = {offset_of(f"agent-{i}") for i in range(1000)}
    assert len(offsets) == 1000 and all(0 <= o < 2**62 for o in offsets)
    assert offset_of("agent-7") == offset_of("agent-7")


async def test_a_waiter_gets_the_lock_when_it_is_released_and_a_cancelled_waiter_takes_nothing(path):
    holder, waiter, third = FileLocks(path), FileLocks(path), FileLocks(path)
    got = anyio.Event()

    async def wait_for_it() -> None:
        async with waiter.hold("agent-1"):
            got.set()

    try:
        assert holder.try_lock("agent-1")
        with anyio.fail_after(10):
            async with anyio.create_task_group() as tg:
                tg.start_soon(wait_for_it)
                await anyio.wait_all_tasks_blocked()
                assert not got.is_set()
                tg.cancel_scope.cancel()  # cancelled while polling: it never held the lock
            assert not got.is_set()
            holder.unlock("agent-1")
            assert third.try_lock("agent-1")
            third.unlock("agent-1")

            assert holder.try_lock("agent-1")
            async with anyio.create_task_group() as tg:
                tg.start_soon(wait_for_it)
                await anyio.wait_all_tasks_blocked()
                holder.unlock("agent-1")
                await got.wait()
        assert third.try_lock("agent-1"), "the waiter released the lock when its block ended"
    finally:
        for locks in (holder, waiter, third):
            locks.close()


def test_a_lock_dies_with_a_killed_process(path):
    script = ("import sys, time; from pathlib import Path; from host.agent.file_locks import FileLocks; "
              f"assert FileLocks(Path({str(path)!r})).try_lock('agent-1'); print('locked', flush=True); time.sleep(600)")
    root = Path(__file__).resolve().parents[3]
    child = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, cwd=root,
                             env={**os.environ, "PYTHONPATH": str(root)})
    mine = FileLocks(path)
    try:
        assert child.stdout is not None and child.stdout.readline() == b"locked\n"
        assert not mine.try_lock("agent-1")
        child.kill()  # SIGKILL: no clean-up runs in the child
        child.wait(timeout=10)
        assert mine.try_lock("agent-1")
    finally:
        child.kill()
        child.wait(timeout=10)
        mine.close()
