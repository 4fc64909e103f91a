"""Plain reads and writes of agents through the server: GET one agent, GET 50 agents, POST an agent.

Run: ``python bench/bench_reads.py [--n 200] [--baseline /work/main]``. For each tree (the baseline, when
given, then this one, back to back) it starts the scripted LLM and one ``agenthost serve`` subprocess of that
tree (SQLite, fresh home), creates 50 default agents and measures, per request: wall time (p50/p90) and the
server's CPU time (user+system from /proc, mean per request; steadier than wall time on a loaded machine).
Prints one table: the baseline's figure and this tree's.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
ROOT = Path(__file__).resolve().parents[1]

import httpx  # noqa: E402
from proc_stats import measure, rss_mb, settle  # noqa: E402  (this folder: the script's own)

EMBEDDING = "openai/text-embedding-3-small"







def run_tree(tree: Path, n: int) -> dict[str, tuple[float, float, float]]:
    for name in [m for m in sys.modules if m == "tests" or m.startswith("tests.")]:
        del sys.modules[name]
    sys.path.insert(0, str(tree))
    try:
        scripted = importlib.import_module("tests.support.scripted_llm")
        server = importlib.import_module("tests.support.server")
    finally:
        sys.path.remove(str(tree))
    body = {"model": "openai-proxy/bench", "embedding": EMBEDDING,
            "memory_blocks": [{"label": "human", "value": "Name: Ada"},
                              {"label": "persona", "value": "A careful assistant."}]}
    out: dict[str, tuple[float, float, float]] = {}
    with scripted.ScriptedLLM() as llm, tempfile.TemporaryDirectory() as tmp:
        home = Path(tmp) / "home"
        with server.ServerProcess(home=home, env=server.server_env(home, llm.base_url)) as srv, \
                httpx.Client(base_url=srv.base_url, timeout=60) as c:
            pid = srv.proc.pid
            ids = []
            for i in range(50):
                resp = c.post("/v1/agents/", json={**body, "name": f"seed-{i}"})
                resp.raise_for_status()
                ids.append(resp.json()["id"])
            size = len(c.get(f"/v1/agents/{ids[0]}").content)
            settle(pid)

            def get_one(i: int) -> None:
                c.get(f"/v1/agents/{ids[i % 50]}").raise_for_status()

            def get_list(i: int) -> None:
                resp = c.get("/v1/agents/", params={"limit": 50})
                resp.raise_for_status()
                assert len(resp.json()) == 50

            def create(i: int) -> None:
                c.post("/v1/agents/", json={**body, "name": f"bench-{i}-{time.monotonic_ns()}"}).raise_for_status()

            def health(i: int) -> None:
                c.get("/v1/health/").raise_for_status()

            out["GET /v1/health (floor)"] = measure(pid, n, health)
            out[f"GET agent ({size / 1024:.1f} KB)"] = measure(pid, n, get_one)
            out["GET 50 agents"] = measure(pid, max(20, n // 4), get_list)
            out["create agent"] = measure(pid, max(20, n // 4), create)
            out["RSS after the benchmark, MB"] = (rss_mb(pid), 0.0, 0.0)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=200)
    parser.add_argument("--baseline", type=Path, default=None, help="another worktree (e.g. /work/main)")
    ns = parser.parse_args()
    results = []
    if ns.baseline:
        results.append(("baseline", run_tree(ns.baseline.resolve(), ns.n)))
    results.append(("this tree", run_tree(ROOT, ns.n)))
    head = f"{'measure':<32}" + "".join(f" {label + ' p50/p90 ms, cpu ms':>34}" for label, _ in results)
    print(head)
    for key in results[-1][1]:
        row = f"{key.split(' (')[0] if key.startswith('GET agent') else key:<32}"
        for _, figures in results:
            k = next((x for x in figures if x.split(" (")[0] == key.split(" (")[0]), None)
            if k is None:
                row += f" {'-':>34}"
                continue
            p50, p90, cpu = figures[k]
            cell = f"{p50:.1f}" if key.startswith("RSS") else f"{p50:.2f} / {p90:.2f}, {cpu:.2f}"
            row += f" {cell:>34}"
        print(row)
    print("goals: GET agent <= 2 ms, GET 50 agents <= 10 ms, create p50 <= 5 ms (p90 <= 10 ms)")


if __name__ == "__main__":
    main()
