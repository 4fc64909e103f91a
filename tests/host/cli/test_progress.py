"""``agenthost tools run --pip ...`` shows its venv progress on stderr: plain lines when stderr is not a terminal,
a live status line on a terminal; stdout stays the JSON result."""

from __future__ import annotations

import json
import os
import pty
import subprocess
import sys
from pathlib import Path

from tests.sandbox.test_venvs import build_wheel
from tests.support.server import server_env

REPO = Path(__file__).resolve().parents[3]
TOOL = "import tinypkg\n\ndef probe() -> int:\n    \"\"\"Read the package's value.\"\"\"\n    return tinypkg.VALUE\n"


def _run(tmp_path: Path, wheel: Path, stderr: int) -> subprocess.Popen[bytes]:
    tool = tmp_path / "probe.py"
    tool.write_text(TOOL)
    return subprocess.Popen([sys.executable, "-m", "host.cli", "tools", "run", str(tool), "--pip", str(wheel)],
                            env=server_env(tmp_path / "home", None), cwd=REPO, stdout=subprocess.PIPE,
                            stderr=stderr)


def test_package_installs_print_plain_progress_lines_when_not_a_terminal(tmp_path: Path) -> None:
    proc = _run(tmp_path, build_wheel(tmp_path), subprocess.PIPE)
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 0, err
    assert json.loads(out)["tool_return"] == "42"
    lines = err.decode().splitlines()
    assert any(line.startswith("agenthost: venv ") and "install 1 requirement" in line for line in lines), lines
    assert any("Successfully installed tinypkg" in line for line in lines), lines
    assert lines[-1].endswith(": ready") and "\x1b[" not in err.decode()

    again = _run(tmp_path, build_wheel(tmp_path), subprocess.PIPE)  # cached: nothing to show
    out, err = again.communicate(timeout=120)
    assert again.returncode == 0 and err == b""


def test_package_installs_show_a_status_line_on_a_terminal(tmp_path: Path) -> None:
    primary, secondary = pty.openpty()
    proc = _run(tmp_path, build_wheel(tmp_path), secondary)
    os.close(secondary)
    chunks = []
    while True:
        try:
            chunk = os.read(primary, 4096)
        except OSError:  # EIO: the child closed the terminal
            break
        if not chunk:
            break
        chunks.append(chunk)
    out = proc.stdout.read() if proc.stdout else b""
    assert proc.wait(timeout=120) == 0
    os.close(primary)
    screen = b"".join(chunks).decode(errors="replace")
    assert json.loads(out)["tool_return"] == "42"
    assert "installing" in screen and "agenthost: installing" in screen and "done in" in screen
    assert "\x1b[" in screen, "a live status line redraws with terminal escapes"
