"""What the benchmarks read of a server process from /proc: CPU time, RSS (its own and with its children),
and whether it is idle; and a percentile. Imported by the ``bench_*.py`` scripts (run from this folder)."""

from __future__ import annotations

import os
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of ``pid``, all its threads."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _children(pid: int) -> list[int]:
    out: list[int] = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        try:
            out += [int(c) for c in (task / "children").read_text().split()]
        except OSError:
            continue
    return out


def server_pids(pid: int) -> list[int]:
    """``pid`` and, under ``agenthost serve --workers N``, its worker processes (uvicorn's supervisor spawns
    them: ``multiprocessing.spawn``); not the sandbox interpreters or MCP servers."""
    out = [pid]
    for child in _children(pid):
        try:
            if b"spawn_main" in Path(f"/proc/{child}/cmdline").read_bytes():
                out.append(child)
        except OSError:  # gone meanwhile
            continue
    return out


def _summed(read: Callable[[int], float], pids: list[int]) -> float:
    """``read(p)`` summed over ``pids``, skipping processes gone meanwhile."""
    total = 0.0
    for p in pids:
        try:
            total += read(p)
        except OSError:
            continue
    return total


def server_cpu_seconds(pid: int) -> float:
    """User + system CPU time of the server: ``pid`` and its workers (``server_pids``)."""
    return _summed(cpu_seconds, server_pids(pid))


def server_rss_mb(pid: int) -> float:
    """RSS of the server: ``pid`` and its workers (``server_pids``)."""
    return _summed(rss_mb, server_pids(pid))


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def tree_pids(pid: int) -> list[int]:
    """``pid`` and its descendants."""
    out, todo = [], [pid]
    while todo:
        current = todo.pop()
        out.append(current)
        todo += _children(current)
    return out


def tree_rss_mb(pid: int) -> float:
    """RSS of ``pid`` with its children (sandbox interpreters, MCP servers)."""
    return _summed(rss_mb, tree_pids(pid))


def pss_mb(pid: int) -> float:
    """Proportional set size: each page shared by N processes counts 1/N (``/proc/<pid>/smaps_rollup``), so a
    sum over processes counts the shared interpreter and libraries once, unlike a sum of RSS."""
    for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
        if line.startswith("Pss:"):
            return int(line.split()[1]) / 1024
    return 0.0


def tree_pss_mb(pid: int) -> float:
    """PSS of ``pid`` with its children: the memory they take together."""
    return _summed(pss_mb, tree_pids(pid))


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def settle(pid: int, timeout_s: float = 90.0) -> None:
    """Wait until the server (with its workers) is idle, its background warm-up done: under 5% of a core over
    one second. Otherwise that work lands in whichever figure it overlaps."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        before = server_cpu_seconds(pid)
        time.sleep(1.0)
        if server_cpu_seconds(pid) - before < 0.05:
            return
    print(f"warning: the server (pid {pid}) did not settle within {timeout_s:.0f} s", file=sys.stderr)


def measure(pid: int, n: int, call: Callable[[int], object]) -> tuple[float, float, float]:
    """``call(i)`` n times after 5 warm-ups: wall p50 and p90 (ms), and the server's CPU per call (ms: ``pid``
    with its workers)."""
    for i in range(5):
        call(i)
    walls = []
    cpu0 = server_cpu_seconds(pid)
    for i in range(n):
        t0 = time.perf_counter()
        call(i)
        walls.append((time.perf_counter() - t0) * 1000)
    return statistics.median(walls), pct(walls, 0.9), (server_cpu_seconds(pid) - cpu0) * 1000 / n
