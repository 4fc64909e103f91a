"""The MCP gateway's cost: tools/call through the pool vs a direct SDK session, and an agent turn with an MCP call.

Run: `python bench/bench_gateway.py [--calls 300] [--turns 40]`. Prints two tables:

1. tools/call `echo` on tests/peers/peer_server.py, stdio and streamable HTTP (127.0.0.1): a direct
   mcp SDK `ClientSession` vs `McpPool.call_tool` in-process (the path the dispatcher takes for
   `external_mcp` tools), p50/p99 and the pool's added latency. (`POST /v1/tools/mcp/servers/{name}/{tool}`
   only registers a tool; calls happen inside agent turns.)
2. One agent turn over REST (`agenthost serve` subprocess, scripted LLM, SQLite): the model calls an
   MCP tool (stdio `echo`) vs the model calls `send_message`; p50/p99 and the difference.
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
sys.path.insert(0, str(ROOT / "bench"))

import anyio  # noqa: E402
from bench_mcp import pct, pool_vs_direct  # noqa: E402

from tests.host.mcp.mcp_gateway import start_gateway, stdio_entry  # noqa: E402
from tests.support.scripted_llm import ScriptedLLM  # noqa: E402


def agent_turns(turns: int) -> tuple[list[float], list[float]]:
    with ScriptedLLM() as llm, tempfile.TemporaryDirectory() as tmp:
        gw = start_gateway(llm, Path(tmp) / "home", {"mcpServers": {"bench": stdio_entry()}})
        try:
            tool = gw.http.post("/v1/tools/mcp/servers/bench/echo").json()
            agent = gw.http.post("/v1/agents", json={
                "name": "bench", "model": "openai-proxy/bench-gateway", "embedding": "openai/text-embedding-3-small",
                "tool_ids": [tool["id"]], "memory_blocks": [{"label": "human", "value": "Ada"}],
            }).json()
            queue = llm.for_model("bench-gateway")

            def turn(name: str, args: dict[str, str]) -> float:
                queue.push_tool_call(name, args)
                started = time.perf_counter()
                resp = gw.http.post(f"/v1/agents/{agent['id']}/messages",
                                    json={"messages": [{"role": "user", "content": "go"}]}, timeout=60)
                elapsed = (time.perf_counter() - started) * 1000
                assert resp.status_code == 200, resp.text[:500]
                kinds = {m["message_type"]: m for m in resp.json()["messages"]}
                if name == "send_message":
                    assert "assistant_message" in kinds, resp.text[:500]
                else:
                    assert kinds["tool_return_message"]["status"] == "success", resp.text[:500]
                return elapsed

            for _ in range(5):  # warm-up (litellm import, first connections)
                turn(tool["name"], {"text": "x"})
                turn("send_message", {"message": "x"})
            with_mcp, without = [], []
            for _ in range(turns):  # interleaved so drift hits both equally
                with_mcp.append(turn(tool["name"], {"text": "x"}))
                without.append(turn("send_message", {"message": "x"}))
            return with_mcp, without
        finally:
            gw.close()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--calls", type=int, default=300)
    parser.add_argument("--turns", type=int, default=40)
    args = parser.parse_args()
    rows = anyio.run(pool_vs_direct, args.calls)
    print(f"tools/call echo, {args.calls} sequential calls after 20 warm-up (ms)")
    print(f"{'transport':<16} {'direct p50':>10} {'direct p99':>10} {'pool p50':>9} {'pool p99':>9} {'added p50':>9}")
    for name, direct, pooled in rows:
        d50, d99, p50, p99 = pct(direct, 0.5), pct(direct, 0.99), pct(pooled, 0.5), pct(pooled, 0.99)
        print(f"{name:<16} {d50:>10.3f} {d99:>10.3f} {p50:>9.3f} {p99:>9.3f} {p50 - d50:>+9.3f}")
    with_mcp, without = agent_turns(args.turns)
    print(f"\nagent turn over REST, {args.turns} turns each after 5 warm-up, SQLite (ms)")
    print(f"{'turn':<28} {'p50':>8} {'p99':>8}")
    print(f"{'model calls MCP echo':<28} {pct(with_mcp, 0.5):>8.1f} {pct(with_mcp, 0.99):>8.1f}")
    print(f"{'model calls send_message':<28} {pct(without, 0.5):>8.1f} {pct(without, 0.99):>8.1f}")
    print(f"{'difference (p50)':<28} {pct(with_mcp, 0.5) - pct(without, 0.5):>+8.1f}")


if __name__ == "__main__":
    main()
