"""The pids cgroups of the sandbox: what a server that died without closing left behind is removed by the
next server to start, and nothing of a live server's is touched."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from sandbox._cgroup import PidsCgroups

ROOT = Path("/sys/fs/cgroup/pids")


def _dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def _dead(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_bytes()
    except FileNotFoundError:
        return True
    return stat[stat.rfind(b")") + 2 :].split()[0] == b"Z"


def test_a_dead_server_s_empty_groups_are_removed_and_a_live_one_s_kept() -> None:
    if not (ROOT / "cgroup.procs").exists() or not os.access(ROOT, os.W_OK):
        pytest.fail(f"the test needs a writable pids cgroup hierarchy at {ROOT} (the sandbox's default root)")
    dead = ROOT / f"agenthost-sandbox-{_dead_pid()}"
    (dead / "4242").mkdir(parents=True)  # a dead server's group, with a runner's group left inside it
    live_server = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    live = ROOT / f"agenthost-sandbox-{live_server.pid}"
    (live / "4243").mkdir(parents=True)
    cgroups = None
    try:
        cgroups = PidsCgroups.open(ROOT)
        assert cgroups is not None
        assert not dead.exists()  # removed, runner's group and all
        assert (live / "4243").is_dir()  # a live server's: left alone
        assert cgroups.parent == ROOT / f"agenthost-sandbox-{os.getpid()}" and cgroups.parent.is_dir()
    finally:
        live_server.kill()
        live_server.wait()
        for path in (live / "4243", live, dead / "4242", dead):
            if path.exists():
                path.rmdir()
        if cgroups is not None:
            cgroups.close()


def test_enter_confines_a_process_and_its_children_and_kill_and_remove_ends_them() -> None:
    """``enter`` moves a process and the child it has already forked into a group of their own with its
    ``pids.max``; ``kill_and_remove`` (what disposing of a runner does after its first SIGKILL) kills
    whatever the group still holds and removes it once its members are gone."""
    if not (ROOT / "cgroup.procs").exists() or not os.access(ROOT, os.W_OK):
        pytest.fail(f"the test needs a writable pids cgroup hierarchy at {ROOT} (the sandbox's default root)")
    cgroups = PidsCgroups.open(ROOT)
    assert cgroups is not None
    parent = subprocess.Popen(["sh", "-c", "sleep 60 & echo $!; wait"], stdout=subprocess.PIPE, text=True)
    try:
        assert parent.stdout is not None
        child = int(parent.stdout.readline())
        group = cgroups.enter(parent.pid, 7)
        assert group == cgroups.parent / str(parent.pid)
        assert (group / "pids.max").read_text().strip() == "7"
        assert sorted(int(p) for p in (group / "cgroup.procs").read_text().split()) == sorted([parent.pid, child])
        remover = threading.Thread(target=cgroups.kill_and_remove, args=(group,))
        remover.start()
        assert parent.wait(timeout=10) == -signal.SIGKILL  # reaped here, as the sandbox reaps its bwrap
        remover.join(timeout=10)
        assert not remover.is_alive()
        assert not group.exists()
        assert _dead(child)  # killed too (init reaps it when it gets to it)
    finally:
        if parent.poll() is None:
            parent.kill()
            parent.wait()
        cgroups.close()
