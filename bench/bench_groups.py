"""Added latency of a main-agent turn in a sleeptime group, against the same kind of agent without one.

Run: `python bench/bench_groups.py [--pg URI] [--turns 200]`. Starts the scripted LLM (zero latency) and an
`agenthost serve` subprocess per database (SQLite always; Postgres with --pg or AGENTHOST_TEST_PG_URI), makes
a plain agent and an agent with ``enable_sleeptime`` (frequency 5: a background sleep-time run every fifth
turn), and times one-step turns on both, alternating, so drift hits both alike. Prints, per database, the
p50/p95 client latency of each and the added p50 (target: under 1 ms; the sleep-time work is off the request
path), plus the server's own ``Server-Timing`` total p50 for each.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import httpx  # noqa: E402

from tests.support.scripted_llm import ScriptedLLM  # noqa: E402
from tests.support.server import ServerProcess, fresh_pg_database, server_env  # noqa: E402

EMBEDDING = "openai/text-embedding-3-small"


def pct(samples: list[float], q: float) -> float:
    s = sorted(samples)
    return s[min(len(s) - 1, int(q * len(s)))]


def make_agent(c: httpx.Client, name: str, sleeptime: bool) -> dict:
    resp = c.post("/v1/agents/", json={"name": name, "model": f"openai-proxy/{name}", "embedding": EMBEDDING,
                                       "enable_sleeptime": sleeptime,
                                       "memory_blocks": [{"label": "human", "value": "The user."}]})
    resp.raise_for_status()
    return resp.json()


def turn(c: httpx.Client, agent_id: str, text: str) -> tuple[float, float]:
    t0 = time.perf_counter()
    resp = c.post(f"/v1/agents/{agent_id}/messages", json={"messages": [{"role": "user", "content": text}]})
    elapsed = time.perf_counter() - t0
    resp.raise_for_status()
    total = next(float(p.split("dur=")[1]) for p in resp.headers["Server-Timing"].split(", ")
                 if p.startswith("total;"))
    return elapsed, total / 1e3


def run(database: str, pg_uri: str | None, turns: int) -> dict[str, float]:
    llm = ScriptedLLM()
    with llm, tempfile.TemporaryDirectory() as tmp:
        home = Path(tmp)
        with ServerProcess(home=home, env=server_env(home, llm.base_url, pg_uri=pg_uri)) as srv, \
                httpx.Client(base_url=srv.base_url, timeout=120) as c:
            plain = make_agent(c, "bench-plain", False)
            main = make_agent(c, "bench-main", True)
            [helper] = main["multi_agent_group"]["agent_ids"]
            c.patch(f"/v1/agents/{helper}", json={"model": "openai-proxy/bench-sleepy"}).raise_for_status()
            sleepy = llm.for_model("bench-sleepy")
            for _ in range(turns // 5 + 10):
                sleepy.push_tool_call("memory_finish_edits", {})
            for _ in range(10):  # warm up (litellm import, connection pools)
                turn(c, plain["id"], "warm up")
                turn(c, main["id"], "warm up")
            lat: dict[str, list[float]] = {"plain": [], "sleeptime": []}
            srv_total: dict[str, list[float]] = {"plain": [], "sleeptime": []}
            for i in range(turns):
                for key, agent in (("plain", plain), ("sleeptime", main)):
                    elapsed, total = turn(c, agent["id"], f"question {i}")
                    lat[key].append(elapsed)
                    srv_total[key].append(total)
            runs = c.get("/v1/runs/", params={"agent_id": helper}).json()
    return {"database": database, "plain_p50": pct(lat["plain"], 0.5), "plain_p95": pct(lat["plain"], 0.95),
            "main_p50": pct(lat["sleeptime"], 0.5), "main_p95": pct(lat["sleeptime"], 0.95),
            "plain_srv_p50": pct(srv_total["plain"], 0.5), "main_srv_p50": pct(srv_total["sleeptime"], 0.5),
            "sleeptime_runs": len(runs)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pg", default=os.environ.get("AGENTHOST_TEST_PG_URI"))
    parser.add_argument("--turns", type=int, default=200)
    args = parser.parse_args()
    results = [run("sqlite", None, args.turns)]
    if args.pg:
        results.append(run("postgres", fresh_pg_database(args.pg), args.turns))
    ms = 1e3
    print(f"{'database':<10} {'plain p50/p95 ms':>18} {'sleeptime p50/p95 ms':>22} {'added p50 ms':>13} "
          f"{'server total p50 plain/sleeptime ms':>36} {'sleep-time runs':>16}")
    for r in results:
        print(f"{r['database']:<10} {r['plain_p50'] * ms:>8.2f}/{r['plain_p95'] * ms:<9.2f} "
              f"{r['main_p50'] * ms:>10.2f}/{r['main_p95'] * ms:<11.2f} {(r['main_p50'] - r['plain_p50']) * ms:>13.2f} "
              f"{r['plain_srv_p50'] * ms:>17.2f}/{r['main_srv_p50'] * ms:<18.2f} {r['sleeptime_runs']:>16}")


if __name__ == "__main__":
    main()
