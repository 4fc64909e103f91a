"""The agent loop under load, against the zero-latency scripted model.

Run: `python bench/bench_loop.py [--pg URI] [--turns 200]`. Starts the scripted LLM and an
`agenthost serve` subprocess per database (SQLite always; Postgres with --pg or AGENTHOST_TEST_PG_URI,
on a fresh database) and prints one table:

- turn latency p50/p95 (client side, sequential turns on one agent): a one-step turn (the model calls
  send_message) and a two-step turn (an archival_memory_search call on an empty archive, then send_message)
- throughput in turns/s with 10 and 100 agents, one turn each in flight per agent (all in parallel)
- the prompt of a default agent's turn: tokens (as the server reports them) and characters (of the
  JSON body the model received: system prompt, messages and tool schemas)
- host CPU per step: the server process's CPU time (all its threads, from /proc) over the one-step turns,
  divided by the steps: everything the host does for a step (HTTP, litellm, the database driver, the
  loop), none of the model's or the database server's time
- non-LLM time per step: turn latency minus the time spent inside the scripted LLM's request handler
  (measured in the LLM's own process by an ASGI timing wrapper), divided by the steps. What remains
  is the host (HTTP in, litellm, the database, tool dispatch) plus the loopback hops and the HTTP
  stacks of this benchmark's own client and of the scripted LLM, which share this process and the
  machine's cores with the server: an upper bound of the host's part.
- the same turns split by the server's ``Server-Timing`` header (medians per step, one-step turns):
  the model call through litellm (request building, the loopback call, parsing), the database work,
  and the host's own work = the server's total minus the model call (DB, prompt, tools, bookkeeping),
  each as wall time and as CPU time (the header's ``cpu`` and ``model-cpu``: litellm's CPU is apart).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import anyio  # noqa: E402
import httpx  # noqa: E402

from tests.support.scripted_llm import ScriptedLLM  # noqa: E402
from tests.support.server import ServerProcess, fresh_pg_database, server_env  # noqa: E402

EMBEDDING = "openai/text-embedding-3-small"


class HandlerClock:
    """ASGI wrapper: total seconds spent inside the wrapped app's chat-completion handler."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.total = 0.0
        self._lock = threading.Lock()

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope.get("type") != "http" or not scope.get("path", "").endswith("/chat/completions"):
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        try:
            await self.app(scope, receive, send)
        finally:
            with self._lock:
                self.total += time.perf_counter() - started


@dataclass
class Figures:
    database: str
    one_p50: float
    one_p95: float
    two_p50: float
    two_p95: float
    tput_10: float
    tput_100: float
    prompt_tokens: int
    prompt_chars: int
    non_llm_step_ms: float
    llm_step_ms: float
    server_ms: float
    model_ms: float
    db_ms: float
    own_ms: float
    model_cpu_ms: float
    own_cpu_ms: float
    cpu_step_ms: float | None
    context_messages: int


def cpu_seconds(pid: int) -> float | None:
    """User + system CPU time of a process and all its threads (Linux /proc), or None elsewhere."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime, stime


def pct(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def make_agent(c: httpx.Client, model: str, window: int | None = None) -> str:
    extra = {"context_window_limit": window} if window else {}
    resp = c.post("/v1/agents/", json={"model": f"openai-proxy/{model}", "embedding": EMBEDDING, **extra,
                                       "memory_blocks": [{"label": "human", "value": "Name: Ada"},
                                                         {"label": "persona", "value": "A careful assistant."}]})
    resp.raise_for_status()
    return str(resp.json()["id"])


TIMINGS: list[dict[str, float]] = []  # Server-Timing of each turn() call, in ms


def server_timing(header: str) -> dict[str, float]:
    out = {}
    for part in header.split(","):
        name, _, params = part.strip().partition(";")
        for param in params.split(";"):
            key, _, value = param.partition("=")
            if key.strip() in ("dur", "desc"):
                out[name] = float(value)
    return out


def turn(c: httpx.Client, agent_id: str, text: str) -> dict[str, Any]:
    resp = c.post(f"/v1/agents/{agent_id}/messages", json={"messages": [{"role": "user", "content": text}]})
    resp.raise_for_status()
    TIMINGS.append(server_timing(resp.headers.get("server-timing", "")))
    return dict(resp.json())


async def parallel_turns(base_url: str, agent_ids: list[str]) -> float:
    async with httpx.AsyncClient(base_url=base_url, timeout=300,
                                 limits=httpx.Limits(max_connections=len(agent_ids))) as c:
        async def one(agent_id: str) -> None:
            r = await c.post(f"/v1/agents/{agent_id}/messages",
                             json={"messages": [{"role": "user", "content": "parallel"}]})
            r.raise_for_status()

        started = time.perf_counter()
        async with anyio.create_task_group() as tg:
            for agent_id in agent_ids:
                tg.start_soon(one, agent_id)
        return len(agent_ids) / (time.perf_counter() - started)


def run(database: str, pg_uri: str | None, turns: int) -> Figures:
    llm = ScriptedLLM()
    clock = HandlerClock(llm.app)
    llm.app = clock  # timed before uvicorn is given the app
    with llm, tempfile.TemporaryDirectory() as tmp:
        home = Path(tmp)
        with ServerProcess(home=home, env=server_env(home, llm.base_url, pg_uri=pg_uri)) as srv, \
                httpx.Client(base_url=srv.base_url, timeout=120) as c:
            agent = make_agent(c, "bench-one")
            for _ in range(5):  # warm up (litellm import, connection pools)
                turn(c, agent, "warm up")
            one: list[float] = []
            llm_time = 0.0
            TIMINGS.clear()
            assert srv.proc is not None
            cpu_before = cpu_seconds(srv.proc.pid)
            for i in range(turns):
                before = clock.total
                t0 = time.perf_counter()
                turn(c, agent, f"question {i}")
                one.append(time.perf_counter() - t0)
                llm_time += clock.total - before
            cpu_after = cpu_seconds(srv.proc.pid)
            cpu_step = None if cpu_before is None or cpu_after is None else (cpu_after - cpu_before) / turns
            context_messages = len(c.get(f"/v1/agents/{agent}").json()["message_ids"])
            non_llm_one = (sum(one) - llm_time) / turns
            llm_one = llm_time / turns
            split = {key: pct([t[key] for t in TIMINGS], .5) for key in ("total", "model", "db", "model-cpu")}
            own = pct([t["total"] - t["model"] for t in TIMINGS], .5)
            own_cpu = pct([t["cpu"] - t["model-cpu"] for t in TIMINGS], .5)

            two_agent = make_agent(c, "bench-two")
            queue = llm.for_model("bench-two")
            two: list[float] = []
            for i in range(turns // 2):
                queue.push_tool_call("archival_memory_search", {"query": "zzqx", "request_heartbeat": True})
                t0 = time.perf_counter()
                body = turn(c, two_agent, f"search {i}")
                two.append(time.perf_counter() - t0)
                assert body["usage"]["step_count"] == 2, body

            fresh = make_agent(c, "bench-prompt")
            body = turn(c, fresh, "How big is my prompt?")
            request = llm.requests_for("bench-prompt")[-1]
            prompt_chars = len(json.dumps({"messages": request["messages"], "tools": request.get("tools")}))

            tputs = []
            for n in (10, 100):
                ids = [make_agent(c, f"bench-par{n}") for _ in range(n)]
                try:
                    tputs.append(anyio.run(parallel_turns, srv.base_url, ids))
                except BaseException:
                    print(srv.log(), file=sys.stderr)
                    raise
            return Figures(database, pct(one, .5) * 1e3, pct(one, .95) * 1e3, pct(two, .5) * 1e3,
                           pct(two, .95) * 1e3, tputs[0], tputs[1], body["usage"]["prompt_tokens"], prompt_chars,
                           non_llm_one * 1e3, llm_one * 1e3, split["total"], split["model"], split["db"], own,
                           split["model-cpu"], own_cpu,
                           None if cpu_step is None else cpu_step * 1e3, context_messages)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pg", default=os.environ.get("AGENTHOST_TEST_PG_URI"))
    parser.add_argument("--turns", type=int, default=200)
    args = parser.parse_args()
    results = [run("sqlite", None, args.turns)]
    if args.pg:
        results.append(run("postgres", fresh_pg_database(args.pg), args.turns))
    print(f"{'db':9} {'1-step p50/p95 ms':>18} {'2-step p50/p95 ms':>18} {'10 ag t/s':>10} {'100 ag t/s':>10} "
          f"{'prompt tok':>10} {'prompt chars':>12} {'non-LLM/step ms':>15} {'llm/step ms':>11}")
    for f in results:
        print(f"{f.database:9} {f.one_p50:8.1f}/{f.one_p95:<9.1f} {f.two_p50:8.1f}/{f.two_p95:<9.1f} "
              f"{f.tput_10:10.1f} {f.tput_100:10.1f} {f.prompt_tokens:10d} {f.prompt_chars:12d} "
              f"{f.non_llm_step_ms:15.1f} {f.llm_step_ms:11.1f}")
    print()
    print(f"one-step turns ({args.turns} on one agent; {results[0].context_messages} messages in its context at the end),"
          " medians of the Server-Timing header except the first column:")
    print(f"{'db':9} {'host CPU/step':>13} {'server':>7} {'model call':>10} {'db':>5} {'host own':>8} "
          f"{'model call CPU':>14} {'host own CPU':>12}")
    for f in results:
        cpu = "n/a" if f.cpu_step_ms is None else f"{f.cpu_step_ms:.1f}"
        print(f"{f.database:9} {cpu:>13} {f.server_ms:7.1f} {f.model_ms:10.1f} {f.db_ms:5.1f} {f.own_ms:8.1f} "
              f"{f.model_cpu_ms:14.1f} {f.own_cpu_ms:12.1f}")
    print("(ms. host CPU/step: the server process's CPU time over the turns / steps. model call: through litellm,"
          " wall and CPU. host own: server - model call, wall and CPU.)")

if __name__ == "__main__":
    main()
