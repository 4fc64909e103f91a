"""Latency of the local sandbox: cold first call vs warm calls.

Run: ``python bench/bench_sandbox.py [--calls 100] [--pool 2] [--isolation auto|namespaces|process]``

``--isolation process`` measures calls without bubblewrap namespaces (still as another uid when root);
the default uses namespaces when ``bwrap`` works. The containment in force is printed first.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import anyio

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sandbox import LocalSandbox, LocalSandboxConfig, SandboxRequest  # noqa: E402

TOOL = '''
def add(a: int, b: int) -> int:
    """Add two numbers."""
    return a + b
'''


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


async def _timed(sb: LocalSandbox, i: int) -> float:
    start = time.perf_counter()
    result = await sb.run(SandboxRequest(source_code=TOOL, args={"a": i, "b": 1}))
    elapsed = (time.perf_counter() - start) * 1000
    if result.status != "success" or result.func_return != i + 1:
        raise SystemExit(f"unexpected result: {result}")
    return elapsed


async def main(calls: int, pool: int, isolation: str) -> None:
    rows: list[tuple[str, float, float, float]] = []
    async with LocalSandbox(LocalSandboxConfig(warm_pool_size=0, isolation=isolation)) as cold:  # type: ignore[arg-type]
        print(f"containment: {cold.containment}")
        first = await _timed(cold, 0)
        cold_runs = [await _timed(cold, i) for i in range(min(calls, 20))]
        await cold.quiesce()
    rows.append(("first call, cold (no pool)", first, first, first))
    rows.append((f"cold calls (no pool), n={len(cold_runs)}", statistics.median(cold_runs), _pct(cold_runs, 0.95), max(cold_runs)))
    async with LocalSandbox(LocalSandboxConfig(warm_pool_size=pool, isolation=isolation)) as warm:  # type: ignore[arg-type]
        samples = []
        for i in range(calls):  # an agent calls tools between model turns: the pool refills in between
            with anyio.fail_after(10):
                await warm.wait_warm()
                await warm.quiesce()
            samples.append(await _timed(warm, i))
        burst_start = time.perf_counter()
        burst = [await _timed(warm, i) for i in range(calls)]  # back to back: refills compete
        burst_s = time.perf_counter() - burst_start
    rows.append((f"warm calls (pool={pool}), n={calls}", statistics.median(samples), _pct(samples, 0.95), max(samples)))
    rows.append((f"back-to-back calls (pool={pool}), n={calls}", statistics.median(burst), _pct(burst, 0.95), max(burst)))
    print(f"{'scenario':<38} {'p50 ms':>8} {'p95 ms':>8} {'max ms':>8}")
    for name, p50, p95, worst in rows:
        print(f"{name:<38} {p50:>8.1f} {p95:>8.1f} {worst:>8.1f}")
    print(f"back-to-back throughput: {calls / burst_s:.0f} calls/s")


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--calls", type=int, default=100)
    parser.add_argument("--pool", type=int, default=2)
    parser.add_argument("--isolation", choices=["auto", "namespaces", "process"], default="auto")
    args = parser.parse_args()
    anyio.run(main, args.calls, args.pool, args.isolation)
