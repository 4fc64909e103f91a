"""The pids cgroups of the sandbox: what a server that died without closing left behind is removed by the
next server to start, and nothing of a live server's is touched."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from sandbox._cgroup import PidsCgroups

ROOT = Path("/sys/fs/cgroup/pids")


def _dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


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
