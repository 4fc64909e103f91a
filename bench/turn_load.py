"""The load of the throughput row: each of N agents gets one turn at a time, for R rounds, from this process.

Run: ``python bench/turn_load.py BASE_URL AGENT_ID [AGENT_ID ...] [--rounds 10]``; prints one JSON object:
``{"rates": [msg/s of each round], "client_cpu_ms_per_msg": ...}`` (a warm-up round first, not counted).

Why a process of its own, on aiohttp: the benchmark's scripted model runs in the benchmark's process, and a
load generator beside it shares its interpreter lock; with httpx the client alone cost about 3 ms of CPU per
message (measured), a fifth of the machine at 150 msg/s. Here it costs about a third of that, on its own
interpreter, so the figure measures the server rather than the load generator.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import time

import aiohttp


async def _round(session: aiohttp.ClientSession, base_url: str, agent_ids: list[str]) -> float:
    async def one(agent_id: str) -> None:
        async with session.post(f"{base_url}/v1/agents/{agent_id}/messages",
                                json={"messages": [{"role": "user", "content": "parallel"}]}) as resp:
            body = await resp.read()
            if resp.status != 200:
                raise SystemExit(f"turn of {agent_id} failed: {resp.status} {body[:300]!r}")

    started = time.perf_counter()
    await asyncio.gather(*(one(a) for a in agent_ids))
    return len(agent_ids) / (time.perf_counter() - started)


async def run(base_url: str, agent_ids: list[str], rounds: int) -> dict[str, object]:
    connector = aiohttp.TCPConnector(limit=len(agent_ids))
    async with aiohttp.ClientSession(connector=connector, timeout=aiohttp.ClientTimeout(total=300)) as session:
        await _round(session, base_url, agent_ids)  # warm-up: connections open, histories cached
        cpu = time.process_time()
        rates = [await _round(session, base_url, agent_ids) for _ in range(rounds)]
        cpu_ms = (time.process_time() - cpu) * 1000 / (rounds * len(agent_ids))
    return {"rates": rates, "client_cpu_ms_per_msg": cpu_ms}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("base_url")
    parser.add_argument("agent_ids", nargs="+")
    parser.add_argument("--rounds", type=int, default=10)
    ns = parser.parse_args()
    print(json.dumps(asyncio.run(run(ns.base_url.rstrip("/"), ns.agent_ids, ns.rounds))))


if __name__ == "__main__":
    main()
