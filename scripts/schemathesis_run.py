"""Schemathesis over every operation of /openapi.json: no input may make the server answer 5xx.

Run: `python scripts/schemathesis_run.py [--pg URI] [--max-examples 5] [--max-time SECONDS]`. Starts the
scripted LLM and an `agenthost serve` subprocess (SQLite, or a fresh Postgres database with --pg /
AGENTHOST_TEST_PG_URI), runs `schemathesis run` with the `not_a_server_error` check only (positive and
negative cases; phases examples, coverage and fuzzing; a fixed seed), and prints the number of cases it ran
and the server errors it found. Exits non-zero on any server error. Schemathesis is pinned in pyproject.toml
(`dev` extra: schemathesis==4.32.5); with --venv it is installed into a separate venv instead.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.support.scripted_llm import ScriptedLLM  # noqa: E402
from tests.support.server import ServerProcess, fresh_pg_database, server_env  # noqa: E402

SCHEMATHESIS = "schemathesis==4.32.5"


def schemathesis_bin(venv: Path | None) -> list[str]:
    if venv is None:
        return [sys.executable, "-m", "schemathesis.cli"]
    if not (venv / "bin" / "schemathesis").exists():
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
        subprocess.run([str(venv / "bin" / "pip"), "install", "-q", SCHEMATHESIS], check=True)
    return [str(venv / "bin" / "schemathesis")]


def count_cases(ndjson: Path) -> tuple[int, int, list[str]]:
    """(cases run, operations, distinct server-error failures) from schemathesis' NDJSON event stream."""
    cases, operations, failures = 0, set(), []
    for line in ndjson.read_text().splitlines():
        event = json.loads(line)
        for kind, body in event.items():
            if kind == "ScenarioFinished":
                recorder = body.get("recorder") or {}
                cases += len(recorder.get("cases") or {})
                label = recorder.get("label")
                if label:
                    operations.add(label)
                for check_list in (recorder.get("checks") or {}).values():
                    for check in check_list:
                        if str(check.get("status")).lower() == "failure" and check.get("name") == "not_a_server_error":
                            failures.append(f"{label}: {(check.get('failure_info') or {}).get('failure', {})}")
    return cases, len(operations), failures


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--pg", default=os.environ.get("AGENTHOST_TEST_PG_URI"))
    parser.add_argument("--max-examples", type=int, default=5)
    parser.add_argument("--max-time", type=int, default=None)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--venv", type=Path, default=None, help="install schemathesis into this venv instead")
    parser.add_argument("--report-dir", type=Path, default=None)
    args = parser.parse_args()
    command = schemathesis_bin(args.venv)
    # A named tool_choice is followed, as a real model does (POST /v1/tools/generate-tool, agents/generate).
    with ScriptedLLM(follow_tool_choice=True) as llm, tempfile.TemporaryDirectory() as home:
        uri = fresh_pg_database(args.pg) if args.pg else None
        report = args.report_dir or Path(home) / "report"
        with ServerProcess(home=Path(home), env=server_env(Path(home), llm.base_url, pg_uri=uri)) as srv:
            run = [*command, "run", f"{srv.base_url}/openapi.json", "--checks", "not_a_server_error",
                   "--max-examples", str(args.max_examples), "--seed", str(args.seed), "--workers", "1",
                   "--phases", "examples,coverage,fuzzing", "--request-timeout", "120", "--no-color",
                   "--suppress-health-check", "all", "--generation-database", "none",
                   "--report", "ndjson", "--report-dir", str(report)]
            if args.max_time:
                run += ["--max-time", str(args.max_time)]
            done = subprocess.run(run, cwd=home)
            log = srv.log_path.read_text(errors="replace") if srv.log_path else ""
        ndjson = next(report.glob("*.ndjson"), None)
        cases, operations, failures = count_cases(ndjson) if ndjson else (0, 0, [])
        database = "postgres" if uri else "sqlite"
        print(f"schemathesis on {database}: {cases} cases over {operations} operations; "
              f"{len(failures)} server error(s); exit {done.returncode}")
        for failure in failures:
            print("  ", failure)
        if "unhandled error" in log:
            print("server log has unhandled errors:\n", log[-4000:])
        return 1 if failures or done.returncode else 0


if __name__ == "__main__":
    sys.exit(main())
