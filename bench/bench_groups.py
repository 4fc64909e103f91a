"""Added latency of a main-agent turn in a sleeptime group, against the same kind of agent without one.

Run: `python bench/bench_groups.py [--pg URI] [--blocks 100]`. Starts the scripted LLM (zero latency) and an
`agenthost serve` subprocess per database (SQLite always; Postgres with --pg or AGENTHOST_TEST_PG_URI), makes
a plain agent, an agent with ``enable_sleeptime`` (frequency 5: a background sleep-time run every fifth
turn) and a one-member round-robin group, and times one-step turns in ABBA blocks (A, B, B, A), so drift hits
both sides alike:

    sleeptime main vs plain agent   the issue's target: under 1 ms added at p50 (sleep-time work is off the
                                    request path)
    1-member group vs its agent     what POST /v1/groups/{id}/messages adds to the member's own turn

Prints, per database and comparison, the p50/p95 client latency of each side and the added p50 (the median
over blocks of the B-minus-A difference).
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

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


def turn(c: httpx.Client, agent_id: str, text: str, *, route: str = "agents") -> float:
    """One turn's wall time: an agent's (``/v1/agents/{id}/messages``) or a group's (``route="groups"``)."""
    t0 = time.perf_counter()
    resp = c.post(f"/v1/{route}/{agent_id}/messages", json={"messages": [{"role": "user", "content": text}]})
    elapsed = time.perf_counter() - t0
    resp.raise_for_status()
    return elapsed


def abba(a: Callable[[str], float], b: Callable[[str], float], blocks: int) -> dict[str, float]:
    """``blocks`` blocks of A, B, B, A: drift within a block hits both alike. The added cost is the median
    over blocks of (B1 + B2 - A1 - A2) / 2, and the p50s of each side are reported too."""
    sa: list[float] = []
    sb: list[float] = []
    diffs: list[float] = []
    for i in range(blocks):
        a1, b1, b2, a2 = a(f"a {i}"), b(f"b {i}"), b(f"b' {i}"), a(f"a' {i}")
        sa += [a1, a2]
        sb += [b1, b2]
        diffs.append((b1 + b2 - a1 - a2) / 2)
    return {"a_p50": pct(sa, 0.5), "a_p95": pct(sa, 0.95), "b_p50": pct(sb, 0.5), "b_p95": pct(sb, 0.95),
            "added_p50": pct(diffs, 0.5)}


def run(database: str, pg_uri: str | None, blocks: int) -> list[dict[str, Any]]:
    llm = ScriptedLLM()
    with llm, tempfile.TemporaryDirectory() as tmp:
        home = Path(tmp)
        with ServerProcess(home=home, env=server_env(home, llm.base_url, pg_uri=pg_uri)) as srv, \
                httpx.Client(base_url=srv.base_url, timeout=120) as c:
            plain = make_agent(c, "bench-plain", False)
            main = make_agent(c, "bench-main", True)
            member = make_agent(c, "bench-member", False)
            group = c.post("/v1/groups/", json={"agent_ids": [member["id"]], "description": "bench"}).json()
            [helper] = main["multi_agent_group"]["agent_ids"]
            c.patch(f"/v1/agents/{helper}", json={"model": "openai-proxy/bench-sleepy"}).raise_for_status()
            sleepy = llm.for_model("bench-sleepy")
            for _ in range(blocks + 10):  # one sleep-time run per 5 main-agent turns (2 per block)
                sleepy.push_tool_call("memory_finish_edits", {})
            for _ in range(10):  # warm up (litellm import, connection pools)
                turn(c, plain["id"], "warm up")
                turn(c, main["id"], "warm up")
                turn(c, group["id"], "warm up", route="groups")
            rows = [
                {"comparison": "sleeptime main vs plain agent",
                 **abba(lambda t: turn(c, plain["id"], t), lambda t: turn(c, main["id"], t), blocks)},
                {"comparison": "1-member group vs its agent",
                 **abba(lambda t: turn(c, member["id"], t), lambda t: turn(c, group["id"], t, route="groups"), blocks)},
            ]
            runs = len(c.get("/v1/runs/", params={"agent_id": helper}).json())
    for row in rows:
        row.update(database=database, sleeptime_runs=runs)
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pg", default=os.environ.get("AGENTHOST_TEST_PG_URI"))
    parser.add_argument("--blocks", type=int, default=100, help="ABBA blocks per comparison (4 turns each)")
    args = parser.parse_args()
    results = run("sqlite", None, args.blocks)
    if args.pg:
        results += run("postgres", fresh_pg_database(args.pg), args.blocks)
    ms = 1e3
    print(f"{'database':<10} {'comparison (A vs B)':<32} {'A p50/p95 ms':>16} {'B p50/p95 ms':>16} "
          f"{'added p50 ms':>13} {'sleep-time runs':>16}")
    for r in results:
        print(f"{r['database']:<10} {r['comparison']:<32} {r['a_p50'] * ms:>7.2f}/{r['a_p95'] * ms:<8.2f} "
              f"{r['b_p50'] * ms:>7.2f}/{r['b_p95'] * ms:<8.2f} {r['added_p50'] * ms:>13.2f} {r['sleeptime_runs']:>16}")


if __name__ == "__main__":
    main()
