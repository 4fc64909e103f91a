"""Issue 20's table, every row, for this tree and (optionally) a baseline tree, runs alternated.

Run: ``python bench/bench_speed.py [--baseline /path/to/other/worktree] [--reps 2] [--n 200] [--workers N]
[--pool N]``.

Each run starts the scripted zero-latency model and one ``agenthost serve`` of that tree (SQLite, a fresh
home; the tree's own ``tests.support`` starts it), waits until the server is idle, then measures:

- RSS of the settled server, before any request but the health checks;
- ``GET /v1/agents/{id}`` (one default agent), ``GET /v1/agents/?limit=50``, ``POST /v1/agents/``: wall p50
  (and p90 for the create, which has a goal for it) and the server's CPU per request (user+system from /proc;
  steadier than wall time on a loaded machine);
- throughput: 10 agents, one turn in flight per agent, for ``--rounds`` rounds: messages per second, the load
  sent from a process of its own (``turn_load.py``, aiohttp), and the server's CPU per message;
- ``POST /v1/tools/run`` with a trivial custom tool, 20 calls back to back: p50 (the median of five such
  bursts, each after the pool has refilled);
- a turn whose model calls the custom tool, then ``send_message`` (two model calls): p50;
- RSS of the server with its children (sandbox interpreters, MCP servers) after all of that, and the same as
  PSS (a page shared by N processes counts 1/N: the interpreter and libraries every sandbox shares count
  once), which is what they take together.

With ``--reps 2`` and a baseline the runs go baseline, this, this, baseline (ABBA: whichever runs second in a
pair is measured on a machine the first has warmed); each cell is the median of the tree's runs. No figure is
asserted: the table is the output. ``--workers N`` starts each server with ``LETTA_UVICORN_WORKERS=N`` (on
SQLite: one file, N worker processes); server CPU and the settled RSS are then the sum over the supervisor and
its workers. ``--pool N`` sets the warm sandbox pool (``AGENTHOST_SANDBOX_WARM_POOL``), by default each tree's
own default (read from its ``host/settings.py``: 6 since 2026-12-08, 8 before), so a baseline runs as it
ships: the tool rows and the RSS after the benchmark depend on it (each warm interpreter with its two
bubblewrap processes is about 14 MB of RSS).
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
ROOT = Path(__file__).resolve().parents[1]

import httpx  # noqa: E402
from proc_stats import (  # noqa: E402  (this folder: the script's own)
    measure,
    server_cpu_seconds,
    server_rss_mb,
    settle,
    tree_pss_mb,
    tree_rss_mb,
)

EMBEDDING = "openai/text-embedding-3-small"
TRIVIAL = "def add(a: int, b: int) -> int:\n    \"\"\"Add.\n\n    Args:\n        a (int): a\n        b (int): b\n    \"\"\"\n    return a + b\n"
BODY = {"model": "openai-proxy/bench", "embedding": EMBEDDING,
        "memory_blocks": [{"label": "human", "value": "Name: Ada"}, {"label": "persona", "value": "A careful assistant."}]}
ROWS = [  # (key, label, unit, goal)
    ("get", "GET agent, p50 ms (server CPU ms)", "ms", "<= 2 ms"),
    ("list", "GET 50 agents, p50 ms (server CPU ms)", "ms", "<= 10 ms"),
    ("create", "create agent, p50 ms (server CPU ms)", "ms", "<= 5 ms"),
    ("create_p90", "create agent, p90 ms", "ms", "<= 10 ms"),
    ("rss_settled", "RSS settled, MB", "MB", "<= 150 MB"),
    ("rss_after", "RSS after, server + children, MB", "MB", "<= 200 MB"),
    ("pss_after", "PSS after, server + children, MB", "MB", "-"),
    ("tput", "10 agents, msg/s (server CPU ms/msg)", "/s", ">= 150 msg/s"),
    ("tools_run", "/v1/tools/run x20 back to back, p50 ms", "ms", "<= 10 ms"),
    ("tool_turn", "turn with one custom tool, p50 ms", "ms", "<= 25 ms"),
]


# 20 back-to-back calls are one burst; one burst's p50 swings by several ms from run to run (how many of calls
# 7-20 find an interpreter already booted), so a run reports the median of several bursts' p50s.
TOOL_BURSTS = 5

_POOL_DEFAULT = re.compile(r"^\s*tool_warm_pool_size: int = (\d+)", re.MULTILINE)


def tree_pool(tree: Path) -> int:
    """The tree's own default warm pool (``host.settings.Settings.tool_warm_pool_size``, read from its source:
    not imported, the trees measured may differ); 8, the default of old, if the line is not found."""
    found = _POOL_DEFAULT.search((tree / "host" / "settings.py").read_text())
    return int(found.group(1)) if found else 8


def timed(pid: int, n: int, call: Callable[[int], object]) -> tuple[float, float]:
    p50, _, cpu = measure(pid, n, call)  # (their p90 is not in the table; create's is, see run_tree)
    return p50, cpu


def _throughput(base_url: str, agent_ids: list[str], rounds: int) -> list[float]:
    """Rounds of one turn per agent, sent from ``turn_load.py`` in a process of its own (aiohttp): the load
    generator does not share the scripted model's interpreter, nor cost httpx's CPU per message."""
    done = subprocess.run([sys.executable, str(Path(__file__).with_name("turn_load.py")), base_url, *agent_ids,
                           "--rounds", str(rounds)], capture_output=True, text=True, timeout=600)
    if done.returncode:
        raise SystemExit(f"turn_load.py failed: {done.stderr.strip()[-500:]}")
    return list(json.loads(done.stdout)["rates"])


def _support(tree: Path) -> tuple[Any, Any]:
    for name in [m for m in sys.modules if m == "tests" or m.startswith("tests.")]:
        del sys.modules[name]
    sys.path.insert(0, str(tree))
    try:
        return importlib.import_module("tests.support.scripted_llm"), importlib.import_module("tests.support.server")
    finally:
        sys.path.remove(str(tree))


def run_tree(tree: Path, n: int, rounds: int, workers: int = 1, pool: int | None = None,
             ) -> dict[str, tuple[float, float | None]]:
    scripted, server = _support(tree)
    out: dict[str, tuple[float, float | None]] = {}
    # The warm pool as given (the tree's own default unless told): the test support's own default is smaller.
    pool = tree_pool(tree) if pool is None else pool
    extra = {"AGENTHOST_SANDBOX_WARM_POOL": str(pool)} | ({"LETTA_UVICORN_WORKERS": str(workers)} if workers > 1 else {})
    with scripted.ScriptedLLM() as llm, tempfile.TemporaryDirectory() as tmp:
        home = Path(tmp) / "home"
        with server.ServerProcess(home=home, env=server.server_env(home, llm.base_url, extra=extra)) as srv, \
                httpx.Client(base_url=srv.base_url, timeout=120) as c:
            pid = srv.proc.pid
            settle(pid)
            out["rss_settled"] = (server_rss_mb(pid), None)
            ids = []
            for i in range(50):
                resp = c.post("/v1/agents/", json={**BODY, "name": f"seed-{i}"})
                resp.raise_for_status()
                ids.append(resp.json()["id"])
            settle(pid)
            out["get"] = timed(pid, n, lambda i: c.get(f"/v1/agents/{ids[i % 50]}").raise_for_status())
            out["list"] = timed(pid, max(20, n // 4),
                                lambda i: c.get("/v1/agents/", params={"limit": 50}).raise_for_status())
            p50, p90, cpu = measure(pid, max(20, n // 4), lambda i: c.post(
                "/v1/agents/", json={**BODY, "name": f"bench-{i}-{time.monotonic_ns()}"}).raise_for_status())
            out["create"], out["create_p90"] = (p50, cpu), (p90, None)

            par = [c.post("/v1/agents/", json={**BODY, "name": f"par-{i}"}).json()["id"] for i in range(10)]
            cpu0 = server_cpu_seconds(pid)
            rates = _throughput(srv.base_url, par, rounds)  # (after a warm-up round, also in the CPU figure)
            out["tput"] = (statistics.median(rates),
                           (server_cpu_seconds(pid) - cpu0) * 1000 / ((rounds + 1) * len(par)))

            def tool_run(i: int) -> None:
                resp = c.post("/v1/tools/run", json={"source_code": TRIVIAL, "args": {"a": i, "b": 1}})
                if resp.status_code != 200 or resp.json()["tool_return"] != str(i + 1):
                    raise SystemExit(f"unexpected /v1/tools/run answer: {resp.status_code} {resp.text[:300]}")

            tool_run(0)
            bursts = []
            for _ in range(TOOL_BURSTS):
                settle(pid)  # the warm pool refilled
                walls = []
                for i in range(20):
                    t0 = time.perf_counter()
                    tool_run(i)
                    walls.append((time.perf_counter() - t0) * 1000)
                bursts.append(statistics.median(walls))
            out["tools_run"] = (statistics.median(bursts), None)

            tool = c.post("/v1/tools", json={"source_code": TRIVIAL}).json()
            agent = c.post("/v1/agents/", json={**BODY, "model": "openai-proxy/bench-tool", "name": "tool-turns",
                                                 "tool_ids": [tool["id"]]}).json()["id"]
            queue = llm.for_model("bench-tool")
            turns = []
            for i in range(11):  # the first is a warm-up
                queue.push_tool_call("add", {"a": i, "b": 1, "request_heartbeat": True})
                queue.push_tool_call("send_message", {"message": "done"})
                time.sleep(0.15)  # each turn finds a warm interpreter, as an agent's turns do
                t0 = time.perf_counter()
                c.post(f"/v1/agents/{agent}/messages",
                       json={"messages": [{"role": "user", "content": "go"}]}).raise_for_status()
                if i:
                    turns.append((time.perf_counter() - t0) * 1000)
            out["tool_turn"] = (statistics.median(turns), None)
            out["rss_after"] = (tree_rss_mb(pid), None)
            out["pss_after"] = (tree_pss_mb(pid), None)
    return out


def _cell(runs: list[dict[str, tuple[float, float | None]]], key: str) -> str:
    main = statistics.median(r[key][0] for r in runs)
    cpus = [r[key][1] for r in runs if r[key][1] is not None]
    text = f"{main:.1f}" if main >= 10 else f"{main:.2f}"
    if cpus:
        text += f" ({statistics.median(c for c in cpus if c is not None):.2f})"
    return text + "  [" + ", ".join(f"{r[key][0]:.1f}" for r in runs) + "]"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--baseline", type=Path, default=None, help="another worktree (e.g. today's main)")
    parser.add_argument("--reps", type=int, default=2)
    parser.add_argument("--n", type=int, default=200, help="GETs of one agent (a quarter of that for the others)")
    parser.add_argument("--rounds", type=int, default=10, help="rounds of 10 parallel turns")
    parser.add_argument("--workers", type=int, default=1, help="server worker processes (LETTA_UVICORN_WORKERS)")
    parser.add_argument("--pool", type=int, default=None,
                        help="warm sandbox interpreters (AGENTHOST_SANDBOX_WARM_POOL; default: each tree's own default)")
    ns = parser.parse_args()
    trees = ([("baseline", ns.baseline.resolve())] if ns.baseline else []) + [("this tree", ROOT)]
    results: dict[str, list[dict[str, tuple[float, float | None]]]] = {label: [] for label, _ in trees}
    for rep in range(ns.reps):
        # ABBA: the tree that runs second in a pair is measured on a machine the first has warmed (its page
        # cache, its CPU's clock), which showed as 8% and 23% less throughput in two A/A runs of one tree
        for label, tree in (trees if rep % 2 == 0 else trees[::-1]):
            print(f"run {rep + 1}/{ns.reps}: {label} ({tree})", file=sys.stderr, flush=True)
            results[label].append(run_tree(tree, ns.n, ns.rounds, ns.workers, ns.pool))
    width = 46
    pools = ", ".join(f"{label} {ns.pool if ns.pool is not None else tree_pool(tree)}" for label, tree in trees)
    print(f"SQLite, {ns.workers} worker process(es), warm sandbox pools: {pools}")
    print(f"{'measure (median of runs; [each run])':<40}" + "".join(f"{label:>{width}}" for label, _ in trees)
          + f"{'goal':>14}")
    for key, label, _, goal in ROWS:
        print(f"{label:<40}" + "".join(f"{_cell(results[t], key):>{width}}" for t, _ in trees) + f"{goal:>14}")


if __name__ == "__main__":
    main()
