"""The REST foundation under load: cold start, memory, create-agent and list-agents latency.

Run: `python bench/bench_foundation.py [--pg URI] [--agents 1000]`. Starts the scripted LLM and an
`agenthost serve` subprocess per database (SQLite always; Postgres with --pg or AGENTHOST_TEST_PG_URI,
each run on a fresh database) and prints one table:

- cold start: from spawning the server to the first healthy /v1/health/ (polled every 50 ms, so the
  figure is rounded up by up to 50 ms)
- RSS of the server process (VmRSS) after start and after creating N agents
- create-agent latency p50/p95 over N sequential creates (two memory blocks, base tools)
- list-agents latency (limit 50) p50/p95 over 100 calls with N agents present
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import httpx  # noqa: E402

from tests.support.scripted_llm import ScriptedLLM  # noqa: E402
from tests.support.server import ServerProcess, fresh_pg_database, server_env  # noqa: E402

logger = logging.getLogger("bench_foundation")

LIST_CALLS = 100


@dataclass(frozen=True)
class Figures:
    database: str
    cold_start_ms: float
    rss_start_mb: float
    rss_loaded_mb: float
    create_p50_ms: float
    create_p95_ms: float
    list_p50_ms: float
    list_p95_ms: float


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"no VmRSS for pid {pid}")


def pct(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def timed(call: object) -> float:
    start = time.perf_counter()
    resp = call()  # type: ignore[operator]
    elapsed = (time.perf_counter() - start) * 1000
    resp.raise_for_status()
    return elapsed


def run(database: str, llm: ScriptedLLM, agents: int, pg_uri: str | None) -> Figures:
    with tempfile.TemporaryDirectory(prefix="bench-foundation-") as tmp:
        home = Path(tmp)
        proc = ServerProcess(home=home, env=server_env(home, llm.base_url, pg_uri=pg_uri))
        started = time.perf_counter()
        proc.start(timeout=60)
        cold_ms = (time.perf_counter() - started) * 1000
        try:
            assert proc.proc is not None
            pid = proc.proc.pid
            with httpx.Client(base_url=proc.base_url, timeout=60) as http:
                handle = next(m["handle"] for m in http.get("/v1/models/").json() if "gpt" in m["handle"])
                rss_start = rss_mb(pid)
                body = {"model": handle, "memory_blocks": [{"label": "human", "value": "Name: Bench"},
                                                           {"label": "persona", "value": "Quick."}]}
                creates = [timed(lambda i=i: http.post("/v1/agents/", json={**body, "name": f"bench-{i}"}))
                           for i in range(agents)]
                rss_loaded = rss_mb(pid)
                lists = [timed(lambda: http.get("/v1/agents/", params={"limit": 50})) for _ in range(LIST_CALLS)]
        finally:
            proc.stop()
    return Figures(database, cold_ms, rss_start, rss_loaded, pct(creates, 0.5), pct(creates, 0.95),
                   pct(lists, 0.5), pct(lists, 0.95))


def print_table(rows: list[Figures], agents: int) -> None:
    header = (f"{'database':<10}{'cold start ms':>15}{'RSS start MB':>14}{f'RSS @{agents} MB':>15}"
              f"{'create p50':>12}{'create p95':>12}{'list50 p50':>12}{'list50 p95':>12}")
    print(header)
    print("-" * len(header))
    for r in rows:
        print(f"{r.database:<10}{r.cold_start_ms:>15.0f}{r.rss_start_mb:>14.1f}{r.rss_loaded_mb:>15.1f}"
              f"{r.create_p50_ms:>12.1f}{r.create_p95_ms:>12.1f}{r.list_p50_ms:>12.1f}{r.list_p95_ms:>12.1f}")
    print(f"(latencies in ms; {agents} sequential creates, {LIST_CALLS} list calls at {agents} agents)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pg", default=os.environ.get("AGENTHOST_TEST_PG_URI"),
                        help="admin URI of a Postgres with pgvector; a fresh database is created on it")
    parser.add_argument("--agents", type=int, default=1000)
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)

    rows = []
    with ScriptedLLM() as llm:
        rows.append(run("sqlite", llm, args.agents, None))
        if args.pg:
            rows.append(run("postgres", llm, args.agents, fresh_pg_database(args.pg)))
    print_table(rows, args.agents)


if __name__ == "__main__":
    main()
