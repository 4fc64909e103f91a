"""Resource limits of the local backend, exercised for real (the machine must stay healthy)."""

import dataclasses
import os
import uuid

import anyio
import pytest

from sandbox import LocalSandbox, SandboxRequest
from sandbox._process import live_group_members

pytestmark = pytest.mark.anyio


def group_exists(pgid: int) -> bool:
    """A live (non-zombie) process is left in the group; zombies wait for init to reap them."""
    return bool(live_group_members(pgid))


def marked_processes(marker: str) -> list[int]:
    """Live host pids whose command line holds ``marker`` (a tool in a PID namespace cannot tell its host pid)."""
    found = []
    for pid in live_pids():
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                if marker.encode() in f.read():
                    found.append(pid)
        except OSError:
            continue
    return found


def live_pids() -> list[int]:
    return [int(p) for p in os.listdir("/proc") if p.isdigit() and process_alive(int(p))]


def process_alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            stat = f.read()
    except FileNotFoundError:
        return False
    return stat[stat.rfind(b")") + 2 :].split()[0] != b"Z"


@pytest.mark.parametrize("cgroup", [True, False], ids=["with-cgroup", "process-group-only"])
async def test_an_infinite_loop_is_killed_at_the_timeout_with_its_whole_tree(local_config, cgroup):
    if not cgroup:
        local_config = dataclasses.replace(local_config, cgroup_root=None)
    marker = f"spin-{uuid.uuid4().hex}"
    src = (
        "import os, subprocess, sys\n"
        "def spin():\n"
        f"    subprocess.Popen([sys.executable, '-c', 'while True: pass', '{marker}'])\n"  # a grandchild in the same group
        "    print(os.getpgrp(), flush=True)\n"
        "    while True:\n"
        "        pass\n"
    )
    async with LocalSandbox(local_config) as sb:
        with anyio.fail_after(10):
            result = await sb.run(SandboxRequest(source_code=src, timeout_s=1.0))
            await sb.quiesce()
    assert result.status == "error"
    assert result.error == "Tool timed out after 1.0 s; the process tree was killed"
    pgid = int(result.stdout[0].split()[0])
    assert not group_exists(pgid)
    assert not marked_processes(marker)  # the pgid is the namespace's own when namespaces are in force


async def test_a_tool_that_escapes_its_process_group_is_still_killed_when_cgroups_work(local_config):
    marker = f"escape-{uuid.uuid4().hex}"
    src = (
        "import subprocess, sys\n"
        "def escape():\n"
        f"    p = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(60)', '{marker}'], start_new_session=True)\n"
        "    return p.pid\n"
    )
    async with LocalSandbox(local_config) as sb:
        if "cgroup" not in sb.enforcement["processes"]:
            pytest.skip("no writable pids cgroup here: only the process group is killed")
        result = await sb.run(SandboxRequest(source_code=src))
        with anyio.fail_after(10):
            await sb.quiesce()
    assert result.status == "success"
    assert not marked_processes(marker)


async def test_a_4_gb_allocation_fails_cleanly(local_config):
    src = "def hog():\n    block = bytearray(4 * 1024 ** 3)\n    return len(block)\n"
    async with LocalSandbox(local_config) as sb:
        result = await sb.run(SandboxRequest(source_code=src))
    assert result.status == "error"
    assert result.error.startswith("MemoryError")


async def test_cpu_time_is_limited(local_config):
    config = dataclasses.replace(local_config, cpu_seconds=1)
    async with LocalSandbox(config) as sb:
        result = await sb.run(SandboxRequest(source_code="def spin():\n    while True:\n        pass\n", timeout_s=20))
    assert result.status == "error"
    assert "CPU time limit of 1 s" in result.error


async def test_file_size_is_limited(local_config):
    config = dataclasses.replace(local_config, max_file_size_mb=1)
    src = "def write():\n    with open('big.bin', 'wb') as f:\n        f.write(b'x' * (4 * 1024 * 1024))\n"
    async with LocalSandbox(config) as sb:
        result = await sb.run(SandboxRequest(source_code=src))
    assert result.status == "error"
    assert "file size limit of 1 MB" in result.error or "File too large" in result.error


async def test_a_fork_bomb_is_contained(local_config):
    config = dataclasses.replace(local_config, max_processes=16)
    src = (
        "import os, time\n"
        "def bomb():\n"
        "    while True:\n"
        "        if os.fork() == 0:\n"
        "            time.sleep(30)\n"
        "            os._exit(0)\n"
    )
    async with LocalSandbox(config) as sb:
        if "NOT enforced" in sb.enforcement["processes"]:
            pytest.skip("root without a writable pids cgroup: the process count is not enforced here")
        with anyio.fail_after(15):
            result = await sb.run(SandboxRequest(source_code=src, timeout_s=5))
            await sb.quiesce()
        assert result.status == "error"
        assert "BlockingIOError" in result.error or "Resource temporarily unavailable" in result.error
        # the machine is fine: a normal call still works
        after = await sb.run(SandboxRequest(source_code="def ok():\n    return 'ok'\n"))
    assert after.func_return == "ok"


async def test_huge_output_is_bounded_with_a_note(local_config):
    config = dataclasses.replace(local_config, max_output_bytes=1000)
    src = "import sys\ndef noisy():\n    print('x' * 5_000_000)\n    sys.stderr.write('y' * 3000)\n    return 'done'\n"
    async with LocalSandbox(config) as sb:
        result = await sb.run(SandboxRequest(source_code=src))
    assert result.status == "success" and result.func_return == "done"
    assert result.stdout[0].startswith("x" * 1000)
    assert result.stdout[0].endswith("[truncated 4999001 bytes]")
    assert result.stderr[0].endswith("[truncated 2000 bytes]")


async def test_a_tool_that_kills_its_own_process_is_an_error(local_config):
    src = "import os, signal\ndef die():\n    os.kill(os.getpid(), signal.SIGKILL)\n"
    async with LocalSandbox(local_config) as sb:
        result = await sb.run(SandboxRequest(source_code=src))
    assert result.status == "error"
    assert "SIGKILL" in result.error
