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
        for task in Path(f"/proc/{current}/task").glob("*"):
            try:
                todo += [int(c) for c in (task / "children").read_text().split()]
            except OSError:
                continue
    return out


def tree_rss_mb(pid: int) -> float:
    """RSS of ``pid`` with its children (sandbox interpreters, MCP servers)."""
    total = 0.0
    for p in tree_pids(pid):
        try:
            total += rss_mb(p)
        except OSError:  # gone meanwhile
            continue
    return total


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def settle(pid: int, timeout_s: float = 90.0) -> None:
    """Wait until the server is idle (its background warm-up done): under 5% of a core over one second.
    Otherwise that work lands in whichever figure it overlaps."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        before = cpu_seconds(pid)
        time.sleep(1.0)
        if cpu_seconds(pid) - before < 0.05:
            return
    print(f"warning: the server (pid {pid}) did not settle within {timeout_s:.0f} s", file=sys.stderr)


def measure(pid: int, n: int, call: Callable[[int], object]) -> tuple[float, float, float]:
    """``call(i)`` n times after 5 warm-ups: wall p50 and p90 (ms), and ``pid``'s CPU per call (ms)."""
    for i in range(5):
        call(i)
    walls = []
    cpu0 = cpu_seconds(pid)
    for i in range(n):
        t0 = time.perf_counter()
        call(i)
        walls.append((time.perf_counter() - t0) * 1000)
    return statistics.median(walls), pct(walls, 0.9), (cpu_seconds(pid) - cpu0) * 1000 / n
