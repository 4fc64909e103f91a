"""``agenthost tools run`` as a real subprocess: no server, same JSON, exit status from the tool's status."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[3]


def _cli(tmp_path: Path, source: str, *args: str) -> subprocess.CompletedProcess[str]:
    tool = tmp_path / "tool.py"
    tool.write_text(source)
    env = {"PATH": "/usr/bin:/bin", "LETTA_DIR": str(tmp_path / "home"), "HOME": str(tmp_path),
           "OPENAI_API_KEY": "sk-should-not-leak"}
    return subprocess.run([sys.executable, "-m", "host.cli", "tools", "run", str(tool), *args],
                          capture_output=True, text=True, env=env, cwd=REPO, timeout=60)


def test_cli_prints_the_tool_return_and_exits_zero(tmp_path: Path) -> None:
    src = "import os\n\ndef add(a: int, b: int) -> int:\n    print(os.environ.get('X'), os.environ.get('OPENAI_API_KEY'))\n    return a + b\n"
    proc = _cli(tmp_path, src, "--args", '{"a": 2, "b": 3}', "--env", "X=y")
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout)
    assert out["message_type"] == "tool_return_message" and out["status"] == "success"
    assert out["tool_return"] == "5" and out["stdout"] == ["y None\n"]


def test_cli_tool_error_exits_one(tmp_path: Path) -> None:
    proc = _cli(tmp_path, "def first():\n    return 1\n\ndef boom():\n    raise ValueError('bad')\n")
    assert proc.returncode == 1, proc.stderr
    out = json.loads(proc.stdout)
    assert out["status"] == "error" and out["tool_return"] == "Error executing function boom: ValueError: bad"
    assert "Traceback" in out["stderr"][0]


def test_cli_timeout_and_name(tmp_path: Path) -> None:
    src = "import time\n\ndef slow():\n    time.sleep(30)\n\ndef other():\n    return 'x'\n"
    proc = _cli(tmp_path, src, "--name", "slow", "--timeout", "0.5")
    assert proc.returncode == 1 and "timed out" in json.loads(proc.stdout)["tool_return"]


def test_cli_bad_args_exit_two(tmp_path: Path) -> None:
    proc = _cli(tmp_path, "def f():\n    return 1\n", "--args", "[1]")
    assert proc.returncode == 2 and "JSON object" in proc.stderr
