"""agenthost as an MCP server: tools/call latency through /mcp, and a message through MCP beside REST.

Run: `python bench/bench_mcp_server.py [--calls 200] [--messages 20] [--pg URI]`. Starts the scripted LLM
and an `agenthost serve` subprocess (SQLite, or Postgres with --pg / AGENTHOST_TEST_PG_URI on a fresh
database), connects the mcp SDK client to `<base_url>/mcp` and prints one table:

- tools/call of a trivial tool (`read_memory_blocks`: one agent's blocks from the DB), p50/p95, on the
  2025-11-25 handshake session and on the 2026-07-28 per-request envelope
- raw REST GET of the same blocks, for reference
- one message to an agent (the scripted LLM answers with one send_message call) through MCP
  `send_message_to_agent` and through REST `POST /v1/agents/{id}/messages`, p50/p95
"""

from __future__ import annotations

import argparse
import logging
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import anyio  # noqa: E402
import httpx  # noqa: E402
from mcp import Client  # noqa: E402

from tests.support.scripted_llm import ScriptedLLM  # noqa: E402
from tests.support.server import ServerProcess, fresh_pg_database, server_env  # noqa: E402

logger = logging.getLogger("bench_mcp_server")
MODEL = "bench-mcp-server"


def _pct(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


async def _timed(n: int, fn: Callable[[], Awaitable[Any]]) -> list[float]:
    await fn()  # warm-up
    out = []
    for _ in range(n):
        started = time.perf_counter()
        await fn()
        out.append((time.perf_counter() - started) * 1000)
    return out


async def run(base_url: str, llm: ScriptedLLM, calls: int, messages: int) -> list[tuple[str, list[float]]]:
    rows: list[tuple[str, list[float]]] = []
    async with httpx.AsyncClient(base_url=base_url, timeout=60) as http:
        agent = (await http.post("/v1/agents/", json={"name": "bench", "model": f"openai-proxy/{MODEL}"})).json()
        agent_id = agent["id"]
        args = {"agent_id": agent_id}
        for mode in ("legacy", "2026-07-28"):
            async with Client(base_url + "/mcp", mode=mode) as client:  # type: ignore[arg-type]
                async def call() -> None:
                    result = await client.call_tool("read_memory_blocks", args)
                    assert not result.is_error
                rows.append((f"tools/call read_memory_blocks ({client.protocol_version})", await _timed(calls, call)))

        async def rest_blocks() -> None:
            (await http.get(f"/v1/agents/{agent_id}/core-memory/blocks")).raise_for_status()
        rows.append(("REST GET core-memory/blocks", await _timed(calls, rest_blocks)))

        queue = llm.for_model(MODEL)
        for _ in range(2 * (messages + 1)):
            queue.push_tool_call("send_message", {"message": "ok"})
        async with Client(base_url + "/mcp", mode="legacy") as client:
            async def mcp_message() -> None:
                result = await client.call_tool("send_message_to_agent", {"agent_id": agent_id, "message": "hi"})
                assert not result.is_error
            rows.append(("message via MCP send_message_to_agent", await _timed(messages, mcp_message)))

        async def rest_message() -> None:
            body = {"messages": [{"role": "user", "content": "hi"}]}
            (await http.post(f"/v1/agents/{agent_id}/messages", json=body)).raise_for_status()
        rows.append(("message via REST POST /messages", await _timed(messages, rest_message)))
    return rows


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=200)
    parser.add_argument("--messages", type=int, default=20)
    parser.add_argument("--pg", default=os.environ.get("AGENTHOST_TEST_PG_URI"))
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr)
    with ScriptedLLM() as llm, tempfile.TemporaryDirectory() as tmp:
        home = Path(tmp) / "home"
        env = server_env(home, llm.base_url, pg_uri=fresh_pg_database(args.pg) if args.pg else None)
        with ServerProcess(home=home, env=env) as server:
            rows = anyio.run(run, server.base_url, llm, args.calls, args.messages)
    print(f"{'operation':<58} {'n':>5} {'p50 ms':>9} {'p95 ms':>9}")
    for name, samples in rows:
        print(f"{name:<58} {len(samples):>5} {statistics.median(samples):>9.2f} {_pct(samples, 0.95):>9.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
