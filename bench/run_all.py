"""Run every benchmark, one after the other: ``python bench/run_all.py [--pg URI] [--quick]``.

Each benchmark starts what it needs (the scripted LLM, an ``agenthost serve`` subprocess, MCP peers) and
prints its own table. ``--pg`` adds the Postgres columns where a benchmark has them; ``--quick`` uses
smaller sizes (no 100k-passage archival run).
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--pg", default=None, help="a Postgres (with pgvector) admin URI")
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    pg = ["--pg", args.pg] if args.pg else []
    plan = [
        ("bench_foundation.py", pg + (["--agents", "200"] if args.quick else [])),
        ("bench_loop.py", pg + (["--turns", "40"] if args.quick else [])),
        ("bench_sandbox.py", []),
        ("bench_tools_run.py", ["--calls", "40", "--turns", "10"] if args.quick else []),
        ("bench_mcp.py", ["--calls", "100"] if args.quick else []),
        ("bench_gateway.py", ["--calls", "100", "--turns", "10"] if args.quick else []),
        ("bench_mcp_server.py", pg + (["--calls", "50", "--messages", "10"] if args.quick else [])),
        ("bench_archival.py", pg + (["--sizes", "10000"] if args.quick else [])),
    ]
    failed = []
    for script, extra in plan:
        print(f"\n=== {script} {' '.join(extra)}", flush=True)
        if subprocess.run([sys.executable, str(HERE / script), *extra], cwd=HERE.parent).returncode != 0:
            failed.append(script)
    if failed:
        print("failed:", ", ".join(failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
