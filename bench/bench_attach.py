"""Attaching memory blocks one at a time as an agent grows: the latency of one attach at N blocks.

Run: `python bench/bench_attach.py [--pg URI] [--blocks 2000]`. Starts the scripted LLM and an `agenthost
serve` subprocess (SQLite, or a fresh Postgres database with --pg / AGENTHOST_TEST_PG_URI), creates one agent
and attaches --blocks blocks to it one by one (PATCH /v1/agents/{id}/core-memory/blocks/attach/{block_id}),
printing the median latency of the attaches around each checkpoint (10, 100, 1000, ... blocks).
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

from tests.support.scripted_llm import ScriptedLLM  # noqa: E402
from tests.support.server import ServerProcess, fresh_pg_database, server_env  # noqa: E402

WINDOW = 10  # attaches measured around each checkpoint


def run(blocks: int, pg_admin: str | None) -> list[tuple[int, float]]:
    checkpoints = [n for n in (10, 100, 500, 1000, 2000, 5000, 10000) if n <= blocks]
    with ScriptedLLM() as llm, tempfile.TemporaryDirectory() as home:
        uri = fresh_pg_database(pg_admin) if pg_admin else None
        with ServerProcess(home=Path(home), env=server_env(Path(home), llm.base_url, pg_uri=uri)) as srv, \
                httpx.Client(base_url=srv.base_url, timeout=120) as c:
            agent = c.post("/v1/agents/", json={"model": "openai-proxy/bench", "memory_blocks": [],
                                                "embedding": "openai/text-embedding-3-small"}).json()["id"]
            out: list[tuple[int, float]] = []
            samples: list[float] = []
            for i in range(1, blocks + 1):
                block = c.post("/v1/blocks/", json={"label": f"b{i}", "value": f"block {i}"}).json()["id"]
                started = time.perf_counter()
                resp = c.patch(f"/v1/agents/{agent}/core-memory/blocks/attach/{block}")
                elapsed = (time.perf_counter() - started) * 1e3
                resp.raise_for_status()
                if checkpoints and i > checkpoints[0] - WINDOW:
                    samples.append(elapsed)
                if checkpoints and i == checkpoints[0]:
                    out.append((i, statistics.median(samples)))
                    print(f"{i:>6} blocks: attach p50 {out[-1][1]:.1f} ms", flush=True)
                    checkpoints.pop(0)
                    samples = []
            return out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--blocks", type=int, default=2000)
    parser.add_argument("--pg", default=os.environ.get("AGENTHOST_TEST_PG_URI"))
    args = parser.parse_args()
    run(args.blocks, args.pg)


if __name__ == "__main__":
    main()
