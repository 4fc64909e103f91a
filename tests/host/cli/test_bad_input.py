"""Every bad command-line input to ``agenthost`` is one line on stderr and a non-zero exit, never a traceback,
and nothing is started: the real CLI as a subprocess."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from host.version import __version__
from tests.support.server import free_port, server_env

REPO = Path(__file__).resolve().parents[3]


def agenthost(*args: str, home: Path, extra: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    env = server_env(home, None, extra=extra)
    return subprocess.run([sys.executable, "-m", "host.cli", *args], capture_output=True, text=True, env=env,
                          cwd=REPO, timeout=60)


def one_line_error(proc: subprocess.CompletedProcess[str], code: int, *words: str) -> str:
    assert proc.returncode == code, (proc.returncode, proc.stderr)
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, proc.stderr
    assert "Traceback" not in proc.stderr and proc.stdout == ""
    for word in words:
        assert word in lines[0], lines[0]
    return lines[0]


def test_version_prints_the_version(tmp_path: Path) -> None:
    proc = agenthost("--version", home=tmp_path)
    assert proc.returncode == 0 and proc.stdout.strip() == f"agenthost {__version__}"


def test_serve_help_describes_every_flag_with_its_default(tmp_path: Path) -> None:
    out = agenthost("serve", "--help", home=tmp_path).stdout.split("options:", 1)[1]
    for flag, default in (("--host", "127.0.0.1"), ("--port", "8283"), ("--log-level", "info"),
                          ("--log-format", "text"), ("--workers", "0")):
        line = " ".join(out.split(flag, 1)[1].split("--", 1)[0].split())
        assert f"(default: {default})" in line, (flag, line)


@pytest.mark.parametrize(("args", "words"), [
    (["serve", "--port", "99999"], ["--port", "99999 is out of range (1-65535)"]),
    (["serve", "--port", "0"], ["--port", "out of range"]),
    (["serve", "--port", "http"], ["--port", "'http' is not a port number"]),
    (["serve", "--log-level", "bogus"], ["--log-level", "'bogus'", "debug"]),
    (["serve", "--log-format", "xml"], ["--log-format", "'xml'"]),
    (["serve", "--workers", "-2"], ["--workers", "-2 must be 0 or more"]),
    (["mcp", "--log-level", "loud"], ["agenthost mcp: error", "'loud'"]),
    (["tools", "run", "x.py", "--log-level", "LOUD"], ["agenthost tools run: error", "'LOUD'"]),
    (["serve", "--bogus"], ["unrecognized arguments: --bogus"]),
    ([], ["required: COMMAND"]),
])
def test_a_bad_command_line_is_one_line_and_exit_2(tmp_path: Path, args: list[str], words: list[str]) -> None:
    one_line_error(agenthost(*args, home=tmp_path / "home"), 2, *words)
    assert not (tmp_path / "home" / "agenthost.db").exists()


def test_a_port_in_use_is_one_line_and_nothing_starts(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        proc = agenthost("serve", "--port", str(port), home=tmp_path / "home")
    one_line_error(proc, 1, f"cannot listen on 127.0.0.1:{port}", "pick another --port")
    assert "ready" not in proc.stderr and "startup complete" not in proc.stderr
    assert not (tmp_path / "home" / "agenthost.db").exists(), "the database was opened before the port was checked"


def test_a_data_dir_that_is_a_file_is_one_line(tmp_path: Path) -> None:
    home = tmp_path / "not-a-dir"
    home.write_text("")
    proc = subprocess.run([sys.executable, "-m", "host.cli", "serve", "--port", str(free_port())],
                          capture_output=True, text=True, cwd=REPO, timeout=60,
                          env={**server_env(tmp_path, None), "LETTA_DIR": str(home)})
    one_line_error(proc, 1, str(home), "is not a directory")


@pytest.mark.skipif(os.geteuid() == 0, reason="root can write anywhere")
def test_an_unwritable_data_dir_is_one_line(tmp_path: Path) -> None:
    home = tmp_path / "ro"
    home.mkdir(mode=0o500)
    proc = agenthost("serve", "--port", str(free_port()), home=home)
    one_line_error(proc, 1, str(home), "ermission denied")


def test_a_data_dir_under_a_file_is_one_line(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("")
    home = tmp_path / "file" / "home"
    proc = subprocess.run([sys.executable, "-m", "host.cli", "serve", "--port", str(free_port())],
                          capture_output=True, text=True, cwd=REPO, timeout=60,
                          env={**server_env(tmp_path, None), "LETTA_DIR": str(home)})
    one_line_error(proc, 1, f"cannot use the data directory {home}", "Not a directory")


def test_a_malformed_environment_value_is_one_line_and_exit_2(tmp_path: Path) -> None:
    proc = agenthost("serve", "--port", str(free_port()), home=tmp_path / "home",
                     extra={"LETTA_PG_POOL_SIZE": "twenty"})
    one_line_error(proc, 2, "LETTA_PG_POOL_SIZE must be an integer", "'twenty'")


def test_a_malformed_mcp_config_is_one_line_and_exit_1(tmp_path: Path) -> None:
    home = tmp_path / "home"
    home.mkdir()
    (home / "mcp_config.json").write_text('{"mcpServers": {"time": {"command": "uvx",}}}')
    proc = agenthost("serve", "--port", str(free_port()), home=home)
    one_line_error(proc, 1, "mcp_config.json", "invalid JSON at line 1", "fix the file")
    assert not (home / "agenthost.db").exists()


def test_a_public_host_without_a_password_warns(tmp_path: Path) -> None:
    # The port is taken on loopback, so the server stops right after the warning: nothing listens publicly.
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        proc = agenthost("serve", "--host", "0.0.0.0", "--port", str(port), home=tmp_path / "home")
        secure = agenthost("serve", "--host", "0.0.0.0", "--port", str(port), home=tmp_path / "home2",
                           extra={"SECURE": "true", "LETTA_SERVER_PASSWORD": "pw"})
        local = agenthost("serve", "--host", "127.0.0.1", "--port", str(port), home=tmp_path / "home3")
    warning, error = proc.stderr.splitlines()
    assert warning.startswith("agenthost serve: warning: --host 0.0.0.0 without a password")
    assert "SECURE=true" in warning
    assert error.startswith("agenthost serve: error: cannot listen on 0.0.0.0")
    assert "warning" not in secure.stderr and "warning" not in local.stderr
    assert secure.returncode == local.returncode == proc.returncode == 1
