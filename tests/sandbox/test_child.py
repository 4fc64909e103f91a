"""A runner's top process, started in a worker thread and waited for through a pidfd (or, without one, a
worker thread): several tasks wait at once, and all of them get its exit status once it has exited."""

import os
import signal
import sys

import anyio
import pytest

from sandbox._child import Child, start_child

pytestmark = pytest.mark.anyio


@pytest.mark.parametrize("pidfd", [True, False], ids=["pidfd", "waiting-thread"])
async def test_several_waiters_all_get_the_exit_status_once_the_process_exits(pidfd):
    child, group = await start_child([sys.executable, "-I", "-S", "-c", "import signal; signal.pause()"], cwd="/",
                                     env={"PATH": os.defpath}, stderr=2, pass_fds=(), user=None, cgroups=None,
                                     max_pids=0)
    assert group is None and (child.pidfd is not None) == hasattr(os, "pidfd_open")
    if not pidfd:  # as on a kernel without pidfds
        child.close()
        child = Child(child.popen, None)
    statuses: list[int] = []

    async def collect() -> None:
        with anyio.fail_after(10):
            statuses.append(await child.wait())

    async with anyio.create_task_group() as tg:
        for _ in range(3):
            tg.start_soon(collect)
        await anyio.wait_all_tasks_blocked()
        assert statuses == [] and child.returncode is None  # still running: nobody has returned
        os.killpg(child.pid, signal.SIGKILL)  # its own session: its own process group
    child.close()
    assert statuses == [-signal.SIGKILL] * 3 and child.returncode == -signal.SIGKILL
