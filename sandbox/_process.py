"""One runner process: spawn it (jail, limits, own session, cgroup), hand it one job, collect, kill the tree.

Each process serves exactly one call, so no state leaks between calls.  With namespaces the process
started is ``bwrap`` (see ``_confine``), whose PID-namespace reaper and the runner are its descendants:
killing bwrap's process group kills the reaper, and the reaper's death kills the whole namespace.

Every channel is a socket pair whose other end only the runner's tree holds: the job goes in and the answer
comes back on one (the job ends where the server shuts its sending side), the runner's stdout and stderr
are two more, and a fourth carries what the started process itself writes to stderr (bubblewrap's
messages, or an interpreter that could not start the runner), read only when there is no answer.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import signal
import socket
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import anyio
from anyio.abc import ByteReceiveStream, SocketStream, UNIXSocketStream

from ._cgroup import PidsCgroups
from ._child import Child, start_child
from ._confine import WORK_DIR_IN_SANDBOX, Jail

logger = logging.getLogger(__name__)

_MAX_RESULT_BYTES = 16 * 1024 * 1024
_DRAIN_GRACE_S = 1.0
_WARM_BOOT_TIMEOUT_S = 30.0
READY_BYTE = b"\x06"  # same value as _runner.READY_BYTE
_RESULT_END = b"\n"  # ends the runner's JSON answer (json.dumps escapes newlines inside it)


@dataclass
class RunnerProcess:
    process: Child
    result: SocketStream  # the job in, the answer out
    out: SocketStream  # the runner's stdout and stderr: their EOF comes when the tool's processes die,
    err: SocketStream  # not (with namespaces) when the namespace does
    diag: SocketStream  # the started process's own stderr (bubblewrap's messages)
    home: Path
    cgroup: Path | None
    python: Path
    namespaced: bool = False
    spawned_at: float = field(default_factory=time.monotonic)
    killed: bool = False  # its tree has had its SIGKILL (``kill_tree_now``)

    @property
    def streams(self) -> tuple[SocketStream, ...]:
        return self.result, self.out, self.err, self.diag

    @property
    def alive(self) -> bool:
        return self.process.returncode is None


@dataclass(frozen=True)
class SpawnSpec:
    python: Path
    env: dict[str, str]
    cwd: Path | None
    limits: dict[str, int]
    max_pids: int
    jail: Jail
    hidden_pth: tuple[str, ...] = ()  # .pth files the runner's site leaves out (``_sitehooks``)


@dataclass
class Outcome:
    result: dict[str, Any] | None
    stdout: str
    stderr: str
    timed_out: bool
    returncode: int | None


async def spawn_runner(spec: SpawnSpec, cgroups: PidsCgroups | None, *, warm: bool = False) -> RunnerProcess:
    """Start ``python -I -S _runner.py``: it applies its limits, runs ``site`` and waits for its one job.

    ``-I`` (isolated) ignores PYTHON* variables, the user site and the script's directory. ``-S`` only
    defers ``site``: the runner runs it itself, without the server's own ``.pth`` hooks (``_sitehooks``), so
    a venv's site-packages and its other ``.pth`` files work as before.
    """
    jail, drop_to = spec.jail, spec.jail.containment.drop_to
    home = Path(tempfile.mkdtemp(prefix="agenthost-tool-"))
    pairs = [socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM) for _ in range(4)]  # result, out, err, diag
    result_fd, out_fd, err_fd, diag_fd = (child.fileno() for _, child in pairs)
    env = dict(spec.env)
    runner_args = ["--result-fd", str(result_fd), "--stdio-fds", f"{out_fd},{err_fd}", "--limits",
                   json.dumps(spec.limits), "--site", ",".join(spec.hidden_pth)]
    user: tuple[int, int] | None = None  # without namespaces, a root server starts it as drop_to
    if drop_to is not None:
        os.chown(home, *drop_to)
        if jail.namespaces:  # bwrap, root without CAP_DAC_OVERRIDE by then, must enter it
            os.chmod(home, 0o711)
    if jail.namespaces:
        env["HOME"] = env["TMPDIR"] = WORK_DIR_IN_SANDBOX
        if drop_to is not None:
            runner_args += ["--drop-to", f"{drop_to[0]}:{drop_to[1]}"]
        cmd = [*jail.bwrap_argv(home), str(spec.python), "-I", "-S", jail.runner_argument, *runner_args]
        cwd = "/"
    else:
        env["HOME"] = env["TMPDIR"] = str(home)
        cmd = [str(spec.python), "-I", "-S", jail.runner_argument, *runner_args]
        cwd = str(spec.cwd or home)
        user = drop_to
    if warm:
        cmd.append("--warm")
    try:
        process, group = await start_child(cmd, cwd=cwd, env=env, stderr=diag_fd, pass_fds=(result_fd, out_fd, err_fd),
                                           user=user, cgroups=cgroups, max_pids=spec.max_pids)
    except BaseException:
        for parent, _ in pairs:
            parent.close()
        shutil.rmtree(home, ignore_errors=True)
        raise
    finally:
        for _, child in pairs:
            child.close()
    with anyio.CancelScope(shield=True):  # the process exists now: never lose track of it
        result, out, err, diag = [await UNIXSocketStream.from_socket(parent) for parent, _ in pairs]
    runner = RunnerProcess(process=process, result=result, out=out, err=err, diag=diag, home=home, cgroup=group,
                           python=spec.python, namespaced=jail.namespaces)
    if warm:  # wait until it has booted and preloaded, so "ready" means ready
        try:
            with anyio.fail_after(_WARM_BOOT_TIMEOUT_S):
                ready = await result.receive(1)
        except BaseException:
            await dispose(runner, cgroups)
            raise
        if ready != READY_BYTE:
            await dispose(runner, cgroups)
            raise OSError(f"warm runner {process.pid} sent {ready!r} instead of its ready byte")
    return runner


class _Capture:
    """Keep the first ``limit`` bytes of a stream and count the rest; ``done`` is set at EOF, ``complete`` (and
    ``also``, when given) at the first ``terminator`` (or EOF)."""

    def __init__(self, limit: int, terminator: bytes | None = None, also: anyio.Event | None = None) -> None:
        self.limit = limit
        self.terminator = terminator
        self.also = also
        self.data = bytearray()
        self.dropped = 0
        self.done = anyio.Event()
        self.complete = anyio.Event()

    async def drain(self, stream: ByteReceiveStream) -> None:
        """Read to EOF, or to the terminator: a read left pending would be cancelled as the tree dies, and
        anyio's socket streams can then set a cancelled future's result (an error in the event loop)."""
        try:
            async for chunk in stream:
                room = max(self.limit - len(self.data), 0)
                self.data += chunk[:room]
                self.dropped += len(chunk) - min(room, len(chunk))
                if self.terminator is not None and self.terminator in chunk:
                    break
        except (anyio.ClosedResourceError, anyio.BrokenResourceError):
            pass
        finally:
            self.done.set()
            self.complete.set()
            if self.also is not None:
                self.also.set()

    def text(self) -> str:
        out = self.data.decode("utf-8", errors="replace")
        if self.dropped:
            out += f"\n[truncated {self.dropped} bytes]"
        return out


async def _set_after(waitable: Any, *events: anyio.Event) -> None:
    await waitable()
    for event in events:
        event.set()


def live_group_members(pgid: int) -> list[int]:
    """Pids of processes in group ``pgid`` that are not zombies (read from /proc)."""
    members = []
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            with open(f"/proc/{entry.name}/stat", "rb") as f:
                stat = f.read()
        except OSError:
            continue
        fields = stat[stat.rfind(b")") + 2 :].split()
        if len(fields) > 2 and fields[0] != b"Z" and int(fields[2]) == pgid:
            members.append(int(entry.name))
    return members


async def _wait_group_dead(pgid: int) -> None:
    """Without a cgroup, SIGKILL the group until no live member is left (bounded)."""
    for _ in range(400):
        try:
            os.killpg(pgid, signal.SIGKILL)
        except ProcessLookupError:
            return
        if not await anyio.to_thread.run_sync(live_group_members, pgid):
            return
        await anyio.sleep(0.005)
    logger.warning("process group %s still has live members after SIGKILL", pgid)


def kill_tree_now(runner: RunnerProcess, cgroups: PidsCgroups | None) -> None:
    """SIGKILL the runner's process group and whatever its cgroup holds (no waiting)."""
    runner.killed = True
    try:
        os.killpg(runner.process.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
    if cgroups is not None and runner.cgroup is not None:
        cgroups.kill_members(runner.cgroup)


async def dispose(runner: RunnerProcess, cgroups: PidsCgroups | None) -> None:
    """Kill and reap a runner's tree, remove its cgroup and home (also for unused warm runners).

    A tree ``execute`` has killed is not signalled again here: removing its cgroup kills whatever the group
    still holds (a process forked as the first kill was sent), as ``_wait_group_dead`` does for its group.
    """
    with anyio.CancelScope(shield=True):
        if not runner.killed:
            kill_tree_now(runner, cgroups)
        with anyio.move_on_after(5):
            await runner.process.wait()
        for stream in runner.streams:
            await stream.aclose()
        runner.process.close()
        if cgroups is not None and runner.cgroup is not None:
            # one worker-thread hop for both: an empty group's removal takes milliseconds on cgroup v1
            await anyio.to_thread.run_sync(_remove_group_and_home, cgroups, runner.cgroup, runner.home)
        else:
            await _wait_group_dead(runner.process.pid)
            await anyio.to_thread.run_sync(shutil.rmtree, runner.home, True)


def _remove_group_and_home(cgroups: PidsCgroups, group: Path, home: Path) -> None:
    """The tree's cgroup (once it is empty: its processes first), then its home."""
    cgroups.kill_and_remove(group)
    shutil.rmtree(home, ignore_errors=True)


async def execute(
    runner: RunnerProcess, job: dict[str, Any], timeout_s: float, max_output_bytes: int, cgroups: PidsCgroups | None
) -> Outcome:
    """Hand the runner its job and collect the answer; the tree is killed, the caller then calls ``dispose``."""
    proc = runner.process
    out, err = _Capture(max_output_bytes), _Capture(max_output_bytes)
    settled = anyio.Event()  # the answer is complete, or the runner's top process has exited
    res = _Capture(_MAX_RESULT_BYTES, terminator=_RESULT_END, also=settled)
    diag = _Capture(4096)  # what the started process wrote itself: read only when there is no answer
    timed_out = False
    try:
        async with anyio.create_task_group() as tg:
            tg.start_soon(out.drain, runner.out)
            tg.start_soon(err.drain, runner.err)
            tg.start_soon(res.drain, runner.result)
            exited = anyio.Event()
            tg.start_soon(_set_after, proc.wait, exited, settled)
            with anyio.move_on_after(timeout_s) as scope:
                try:
                    await runner.result.send(json.dumps(job).encode("utf-8"))
                    await runner.result.send_eof()  # the job ends here
                except (anyio.BrokenResourceError, anyio.ClosedResourceError):
                    pass  # it died before reading the job; reported from its exit status
                # The answer is complete at its newline (the runner closed stdout and stderr just before);
                # the channel's EOF covers a runner that died, its exit a fork that kept the channel.
                await settled.wait()
                if runner.namespaced and not res.data and not exited.is_set():
                    # the runner died without answering: let bwrap exit with its status (128 + signal)
                    with anyio.move_on_after(_DRAIN_GRACE_S):
                        await exited.wait()
            timed_out = scope.cancelled_caught and not res.complete.is_set()
            kill_tree_now(runner, cgroups)  # also ends anything the tool left running
            # Pipes reach EOF once every holder is dead; bounded in case one escaped.
            with anyio.move_on_after(_DRAIN_GRACE_S):
                for capture in (out, err):
                    await capture.done.wait()
                await res.complete.wait()
                if not res.data:  # no answer: its exit status (and bwrap's messages) explain why
                    await exited.wait()
                    await diag.drain(runner.diag)  # at EOF: its writer has exited
            tg.cancel_scope.cancel()
    except BaseException:
        with anyio.CancelScope(shield=True):
            await dispose(runner, cgroups)
        raise
    result: dict[str, Any] | None = None
    if res.dropped:
        result = {"status": "error", "error": f"the tool's return value exceeds {_MAX_RESULT_BYTES} bytes"}
    elif res.data:
        try:
            result = json.loads(bytes(res.data).split(_RESULT_END, 1)[0])
        except ValueError:
            logger.warning("runner %s wrote an unreadable result (%d bytes)", proc.pid, len(res.data))
    returncode = proc.returncode
    if runner.namespaced and returncode is not None and returncode > 128:  # bwrap: 128 + the runner's signal
        returncode = 128 - returncode
    stderr = err.text() + (diag.text() if not res.data else "")
    return Outcome(result=result, stdout=out.text(), stderr=stderr, timed_out=timed_out, returncode=returncode)
