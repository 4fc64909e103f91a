"""Attaching one block to an agent that already has N blocks, in process: the event-loop thread's CPU time
per attach (thread_time: robust on a shared, loaded machine; the SQLite work in aiosqlite's thread is not
counted). Run from the repository root: `python bench/bench_attach_cpu.py`. bench/bench_attach.py measures
the same over HTTP (wall clock).
"""
import asyncio
import logging
import os
import statistics
import sys
import tempfile
import time

os.environ["LITELLM_LOCAL_MODEL_COST_MAP"]="True"
sys.path.insert(0, os.getcwd())
from host.app import open_services
from host.schemas.agents import CreateAgentRequest, UpdateAgent
from host.schemas.blocks import CreateBlock
from host.settings import Settings

logging.disable(logging.WARNING)
async def main():
    home = tempfile.mkdtemp()
    s = Settings.from_env({"HOME": home, "LETTA_DIR": home, "OPENAI_API_KEY": "x", "OPENAI_API_BASE": "http://127.0.0.1:9/v1"})
    async with open_services(s) as svc:
        await asyncio.sleep(8)  # litellm warm-up import out of the way
        for n in (10, 1000, 3000):
            state, _ = await svc.agents.create(CreateAgentRequest.model_validate({"llm_config": {"model": "gpt-4o-mini", "model_endpoint_type": "openai", "context_window": 32000}, "embedding_config": {"embedding_model": "x", "embedding_endpoint_type": "openai", "embedding_dim": 8}, "memory_blocks": []}))
            ids = [(await svc.blocks.create(CreateBlock(label=f"b{i}", value=f"value of block {i}"))).id for i in range(n)]
            await svc.agents.modify(state.id, UpdateAgent.model_validate({"block_ids": ids}))
            samples = []
            for j in range(15):
                b = await svc.blocks.create(CreateBlock(label=f"x{j}", value=f"extra {j}"))
                t = time.thread_time()
                await svc.agents.attach_block(state.id, b.id)
                samples.append((time.thread_time() - t) * 1e3)
            print(f"{n} blocks: attach main-thread CPU p50 {statistics.median(samples):.1f} ms min {min(samples):.1f} ms", flush=True)
asyncio.run(main())
