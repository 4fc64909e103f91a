"""Custom tools through the server: ``POST /v1/tools/run`` latency and the cost of a custom tool in a turn.

Run: ``python bench/bench_tools_run.py [--calls 100] [--turns 20] [--pool 8]``. Starts the scripted LLM and
one ``agenthost serve`` subprocess (SQLite, fresh home, ``--pool`` warm interpreters: the server's default
unless given) and prints one table:

- /v1/tools/run, trivial tool: the first call after start-up, then p50/p95 over N back-to-back calls
  (the pool refills while the burst drains it; calls past its size wait for an interpreter already
  starting) and over N calls 150 ms apart (each finds a warm interpreter)
- agent turn with a custom tool call + send_message (two LLM calls, one sandbox run) vs a turn with
  only send_message (one LLM call); the difference is the custom tool's cost inside a turn
  (its sandbox run plus the extra model round trip to the loopback scripted LLM and the extra step write)
- both turns split by the server's ``Server-Timing`` header (medians): the model calls through litellm, the
  loop's database work, the tool calls (the sandbox run), and the rest (the host's own work)
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import httpx  # noqa: E402
from proc_stats import pct as _pct  # noqa: E402  (this folder: the script's own)
from proc_stats import settle  # noqa: E402

from host.settings import Settings  # noqa: E402
from tests.support.scripted_llm import ScriptedLLM  # noqa: E402
from tests.support.server import ServerProcess, server_env  # noqa: E402

TRIVIAL = "def add(a: int, b: int) -> int:\n    \"\"\"Add.\n\n    Args:\n        a (int): a\n        b (int): b\n    \"\"\"\n    return a + b\n"


def _timed_run(http: httpx.Client, i: int) -> float:
    start = time.perf_counter()
    resp = http.post("/v1/tools/run", json={"source_code": TRIVIAL, "args": {"a": i, "b": 1}})
    elapsed = (time.perf_counter() - start) * 1000
    body = resp.json()
    if resp.status_code != 200 or body["tool_return"] != str(i + 1):
        raise SystemExit(f"unexpected answer: {resp.status_code} {body}")
    return elapsed


def _server_timing(header: str) -> dict[str, float]:
    out = {}
    for part in header.split(","):
        name, _, params = part.strip().partition(";")
        key, _, value = params.partition("=")
        if key in ("dur", "desc"):
            out[name] = float(value)
    return out


def _turn(http: httpx.Client, agent_id: str) -> tuple[float, dict[str, float]]:
    start = time.perf_counter()
    resp = http.post(f"/v1/agents/{agent_id}/messages", json={"messages": [{"role": "user", "content": "go"}]})
    elapsed = (time.perf_counter() - start) * 1000
    if resp.status_code != 200:
        raise SystemExit(f"turn failed: {resp.status_code} {resp.text}")
    return elapsed, _server_timing(resp.headers.get("server-timing", ""))


def main(calls: int, turns: int, pool: int) -> None:
    with ScriptedLLM() as llm, tempfile.TemporaryDirectory() as tmp:
        home = Path(tmp) / "home"
        env = server_env(home, llm.base_url, extra={"AGENTHOST_SANDBOX_WARM_POOL": str(pool)})
        with ServerProcess(home=home, env=env) as server, \
                httpx.Client(base_url=server.base_url, timeout=60) as http:
            first = _timed_run(http, 0)
            assert server.proc is not None
            settle(server.proc.pid)  # litellm's background import done, the pool refilled
            warm = [_timed_run(http, i) for i in range(calls)]
            paced = []
            for i in range(calls):
                time.sleep(0.15)  # lets the warm pool refill: the latency of an isolated call
                paced.append(_timed_run(http, i))

            tool = http.post("/v1/tools", json={"source_code": TRIVIAL}).json()
            agents = {}
            for kind in ("custom", "plain"):
                model = f"bench-{kind}"
                llm.for_model(model)
                agents[kind] = http.post("/v1/agents", json={
                    "name": f"bench-{kind}", "model": f"openai-proxy/{model}",
                    "embedding": "openai/text-embedding-3-small", "tool_ids": [tool["id"]],
                    "memory_blocks": [{"label": "human", "value": "x"}, {"label": "persona", "value": "y"}],
                }).json()["id"]
            samples: dict[str, list[float]] = {"custom": [], "plain": []}
            timings: dict[str, list[dict[str, float]]] = {"custom": [], "plain": []}
            for i in range(turns + 1):  # the first turn of each is a warm-up
                for kind in ("custom", "plain"):
                    queue = llm.for_model(f"bench-{kind}")
                    if kind == "custom":
                        queue.push_tool_call("add", {"a": i, "b": 1, "request_heartbeat": True})
                    queue.push_tool_call("send_message", {"message": "done"})
                    elapsed, timing = _turn(http, agents[kind])
                    if i:
                        samples[kind].append(elapsed)
                        timings[kind].append(timing)

    rows = [
        ("/v1/tools/run first call after start", first, first),
        (f"/v1/tools/run back-to-back, n={calls}", statistics.median(warm), _pct(warm, 0.95)),
        (f"/v1/tools/run paced (pool refilled), n={calls}", statistics.median(paced), _pct(paced, 0.95)),
        (f"turn: custom tool + send_message, n={turns}", statistics.median(samples["custom"]),
         _pct(samples["custom"], 0.95)),
        (f"turn: send_message only, n={turns}", statistics.median(samples["plain"]), _pct(samples["plain"], 0.95)),
    ]
    print(f"warm pool: {pool} interpreters")
    print(f"{'measure':<48} {'p50 ms':>9} {'p95 ms':>9}")
    for name, p50, p95 in rows:
        print(f"{name:<48} {p50:>9.1f} {p95:>9.1f}")
    extra = statistics.median(samples["custom"]) - statistics.median(samples["plain"])
    print(f"{'custom tool cost inside a turn (p50 difference)':<48} {extra:>9.1f}")
    print("\nturns by Server-Timing (medians, ms): model = litellm + the scripted LLM, tools = the sandbox run,")
    print("host = total - model - db - tools")
    print(f"{'turn':<28} {'total':>7} {'model':>7} {'db':>7} {'tools':>7} {'host':>7} {'cpu':>7}")
    for kind in ("custom", "plain"):
        rows_t = timings[kind]
        med = {k: statistics.median(t.get(k, 0.0) for t in rows_t) for k in ("total", "model", "db", "tools", "cpu")}
        host = statistics.median(t.get("total", 0.0) - t.get("model", 0.0) - t.get("db", 0.0) - t.get("tools", 0.0)
                                 for t in rows_t)
        print(f"{kind:<28} {med['total']:>7.1f} {med['model']:>7.1f} {med['db']:>7.1f} {med['tools']:>7.1f} "
              f"{host:>7.1f} {med['cpu']:>7.1f}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--calls", type=int, default=100)
    parser.add_argument("--turns", type=int, default=20)
    parser.add_argument("--pool", type=int, default=Settings.tool_warm_pool_size)
    ns = parser.parse_args()
    main(ns.calls, ns.turns, ns.pool)
