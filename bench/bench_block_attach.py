"""What attaching one memory block costs as the agent grows and as the block is shared by more agents.

Run from the repository root: `python bench/bench_block_attach.py [--pg URI] [--blocks 10,100,1000,3000]
[--agents 1,10,100,500]`. In process (the services, no HTTP; SQLite in a temporary directory, or a fresh
Postgres database with --pg / AGENTHOST_TEST_PG_URI). Prints one table: for each shape, the median wall time
and event-loop CPU time (``time.thread_time``: the database driver's own thread is not counted) of 15
attaches, each of a new block to an agent that already holds N blocks, or of a block that M other agents
already share to a new agent. The whole AgentState is still returned (its block list is O(N) by contract):
its blocks come from the block cache, which reads whole only the new block; the stored system prompt is
marked stale, not compiled (the next read that shows it compiles it).
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from host.app import open_services  # noqa: E402
from host.schemas.agents import CreateAgentRequest, UpdateAgent  # noqa: E402
from host.schemas.blocks import CreateBlock  # noqa: E402
from host.settings import Settings  # noqa: E402

SAMPLES = 15
AGENT = {"llm_config": {"model": "gpt-4o-mini", "model_endpoint_type": "openai", "context_window": 32000},
         "embedding_config": {"embedding_model": "x", "embedding_endpoint_type": "openai", "embedding_dim": 8},
         "memory_blocks": []}


async def _agent(svc) -> str:
    state, _ = await svc.agents.create(CreateAgentRequest.model_validate(AGENT))
    return state.id


async def _timed(attach) -> tuple[float, float]:
    wall, cpu = time.perf_counter(), time.thread_time()
    await attach()
    return (time.perf_counter() - wall) * 1e3, (time.thread_time() - cpu) * 1e3


async def by_blocks(svc, n: int) -> list[tuple[float, float]]:
    """A new block onto an agent that holds ``n`` blocks."""
    agent = await _agent(svc)
    ids = [(await svc.blocks.create(CreateBlock(label=f"b{i}", value=f"value of block {i}"))).id for i in range(n)]
    await svc.agents.modify(agent, UpdateAgent.model_validate({"block_ids": ids}))
    out = []
    for j in range(SAMPLES):
        block = (await svc.blocks.create(CreateBlock(label=f"x{j}", value=f"extra {j}"))).id
        out.append(await _timed(lambda b=block: svc.agents.attach_block(agent, b)))
    return out


async def by_sharers(svc, m: int) -> list[tuple[float, float]]:
    """A block that ``m`` agents already share, onto a new agent (each agent holds 3 blocks)."""
    shared = (await svc.blocks.create(CreateBlock(label="shared", value="shared by all"))).id
    for _ in range(m):
        await svc.agents.attach_block(await _agent(svc), shared)
    out = []
    for _ in range(SAMPLES):
        agent = await _agent(svc)
        out.append(await _timed(lambda a=agent: svc.agents.attach_block(a, shared)))
    return out


async def main(blocks: list[int], agents: list[int], pg: str | None) -> None:
    logging.disable(logging.WARNING)
    home = tempfile.mkdtemp()
    env = {"HOME": home, "LETTA_DIR": home, "OPENAI_API_KEY": "x", "OPENAI_API_BASE": "http://127.0.0.1:9/v1"}
    if pg:
        env["LETTA_PG_URI"] = pg
    async with open_services(Settings.from_env(env)) as svc:
        await asyncio.sleep(4)  # the runner's litellm warm-up import out of the way
        print(f"{'shape':<34}{'attach p50 ms':>14}{'loop CPU p50 ms':>17}", flush=True)
        for label, runs in [*((f"agent holds {n} blocks", by_blocks(svc, n)) for n in blocks),
                            *((f"block shared by {m} agents", by_sharers(svc, m)) for m in agents)]:
            samples = await runs
            wall = statistics.median(w for w, _ in samples)
            cpu = statistics.median(c for _, c in samples)
            print(f"{label:<34}{wall:>14.1f}{cpu:>17.1f}", flush=True)


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--blocks", default="10,100,1000,3000")
    parser.add_argument("--agents", default="1,10,100,500")
    parser.add_argument("--pg", default=os.environ.get("AGENTHOST_TEST_PG_URI"))
    args = parser.parse_args()
    pg_uri = None
    if args.pg:  # made before the event loop runs (it runs a loop of its own)
        from tests.support.server import fresh_pg_database

        pg_uri = fresh_pg_database(args.pg)
    asyncio.run(main([int(x) for x in args.blocks.split(",")], [int(x) for x in args.agents.split(",")], pg_uri))
