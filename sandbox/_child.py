"""A runner's top process (``bwrap``, or the interpreter without namespaces), started off the event loop.

``subprocess.Popen`` runs in a thread: forking a server of a hundred-odd megabytes and waiting for the
child's ``exec`` takes milliseconds (much more on a loaded machine), which asyncio's subprocess support
would spend on the event loop, beside a thread per child to wait for it. Here the exit is watched on the
event loop through a pidfd (Linux 5.3+; elsewhere a worker thread waits, only while a call or a disposal
waits for it). The runner's streams are socket pairs the caller passes in, never pipes of this process.

The thread is one of this module's spawner threads, which live as long as the process, never one of
anyio's worker threads: ``bwrap --die-with-parent`` (``PR_SET_PDEATHSIG``) kills the sandbox when the
*thread* that started it exits, and anyio ends a worker thread after ten idle seconds, which killed warm
runners waiting in the pool and runners in the middle of long calls.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar

import anyio
import anyio.from_thread
import anyio.lowlevel

from ._cgroup import PidsCgroups


@dataclass
class Child:
    popen: subprocess.Popen[bytes]
    pidfd: int | None  # None: no pidfd here, a worker thread waits instead
    _watching: anyio.Event | None = field(default=None, repr=False)

    @property
    def pid(self) -> int:
        return self.popen.pid

    @property
    def returncode(self) -> int | None:
        """The exit status once the process has exited (reaped then), else None."""
        return self.popen.poll()

    async def wait(self) -> int:
        """Wait for the exit and reap; several tasks may wait at once."""
        while self.popen.poll() is None:
            if self._watching is not None:  # another task watches: share its wake-up
                await self._watching.wait()
                continue
            self._watching = event = anyio.Event()
            try:
                if self.pidfd is not None:
                    await anyio.wait_readable(self.pidfd)
                else:
                    await anyio.to_thread.run_sync(self.popen.wait, abandon_on_cancel=True)
            finally:
                self._watching = None
                event.set()
        return self.popen.returncode

    def close(self) -> None:
        """Release the pidfd (nothing waits for the process any more)."""
        if self.pidfd is not None:
            os.close(self.pidfd)
            self.pidfd = None


T = TypeVar("T")

# Threads that start runners (never exit while the process lives; see the module docstring).
_SPAWNERS = ThreadPoolExecutor(max_workers=2, thread_name_prefix="sandbox-spawner")


async def _on_spawner_thread(fn: Callable[..., T], *args: object) -> T:
    """``fn(*args)`` on a spawner thread; the caller shields this from cancellation."""
    token = anyio.lowlevel.current_token()
    done = anyio.Event()

    def work() -> T:
        try:
            return fn(*args)
        finally:
            try:
                anyio.from_thread.run_sync(done.set, token=token)
            except RuntimeError:  # the event loop is gone (shutting down): nobody waits any more
                pass

    future = _SPAWNERS.submit(work)
    await done.wait()
    return future.result()


def _start(cmd: list[str], cwd: str, env: dict[str, str], stderr: int, pass_fds: tuple[int, ...],
           user: tuple[int, int] | None, cgroups: PidsCgroups | None, max_pids: int,
           ) -> tuple[subprocess.Popen[bytes], Path | None]:
    uid, gid, groups = (user[0], user[1], []) if user is not None else (None, None, None)
    popen = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=stderr, cwd=cwd,
                             env=env, start_new_session=True, pass_fds=pass_fds, user=uid, group=gid,
                             extra_groups=groups)
    # moved into its pids cgroup before it can have its job (it forks nothing before); the first cgroup v1
    # migration can take ~15 ms in the kernel: here, off the event loop
    return popen, cgroups.enter(popen.pid, max_pids) if cgroups is not None else None


async def start_child(cmd: list[str], *, cwd: str, env: dict[str, str], stderr: int, pass_fds: tuple[int, ...],
                      user: tuple[int, int] | None, cgroups: PidsCgroups | None, max_pids: int,
                      ) -> tuple[Child, Path | None]:
    """Start ``cmd`` in its own session (stdin and stdout /dev/null, stderr to the fd ``stderr``; as ``user``,
    a (uid, gid) without supplementary groups, when given) on a spawner thread, with its pids cgroup entered;
    never loses a started process to a cancellation."""
    with anyio.CancelScope(shield=True):
        popen, group = await _on_spawner_thread(_start, cmd, cwd, env, stderr, pass_fds, user, cgroups, max_pids)
    try:
        pidfd: int | None = os.pidfd_open(popen.pid)
    except (AttributeError, OSError):  # not Linux, or a kernel before 5.3
        pidfd = None
    return Child(popen, pidfd), group
