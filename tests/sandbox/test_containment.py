"""Containment of the local backend, tried for real: what a tool can see, write, reach and run as."""

import dataclasses
import http.server
import os
import shutil
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from sandbox import LocalSandbox, LocalSandboxConfig, SandboxRequest, SandboxStartError
from sandbox._confine import bwrap_problem

pytestmark = pytest.mark.anyio

NO_NAMESPACES = bwrap_problem(shutil.which("bwrap"), True)
needs_namespaces = pytest.mark.skipif(NO_NAMESPACES is not None, reason=f"no namespaces here: {NO_NAMESPACES}")
needs_root = pytest.mark.skipif(os.geteuid() != 0, reason="the server-as-root case")

PEEK = '''
import os

def peek(server_pid: int, paths: list) -> dict:
    def read(path):
        try:
            with open(path, "rb") as f:
                return f.read().decode("utf-8", "replace")
        except OSError as exc:
            return f"ERR {type(exc).__name__}"
    visible = sorted(int(p) for p in os.listdir("/proc") if p.isdigit())
    return {
        "uid": os.getuid(),
        "visible_pids": visible,
        "server_environ": read(f"/proc/{server_pid}/environ"),
        "environs": {str(p): read(f"/proc/{p}/environ") + read(f"/proc/{p}/cmdline") for p in visible},
        "files": {p: read(p) for p in paths},
        "listings": {p: (sorted(os.listdir(p)) if os.path.isdir(p) else None) for p in paths},
    }
'''


@pytest.fixture
def contained(local_config: LocalSandboxConfig) -> LocalSandboxConfig:
    return dataclasses.replace(local_config, isolation="namespaces")


async def run(config: LocalSandboxConfig, source: str, **kwargs):
    async with LocalSandbox(config) as sb:
        return await sb.run(SandboxRequest(source_code=source, **kwargs))


@needs_namespaces
async def test_a_tool_sees_neither_the_server_process_nor_any_secret_in_proc(contained):
    os.environ["OPENAI_API_KEY"] = secret = "sk-server-secret-in-proc"
    try:
        result = await run(contained, PEEK, args={"server_pid": os.getpid(), "paths": []})
    finally:
        del os.environ["OPENAI_API_KEY"]
    assert result.status == "success", result
    ret = result.func_return
    assert ret["server_environ"].startswith("ERR")
    assert ret["visible_pids"] == [1, 2]  # bubblewrap's reaper and the runner: nothing of the host
    assert secret not in repr(ret["environs"])
    if os.geteuid() == 0:  # PID 1 is root-owned: its environment is not even readable
        assert ret["environs"]["1"].startswith("ERR")


@needs_namespaces
async def test_the_data_directory_is_invisible_except_the_tool_directory(contained, tmp_path):
    data = tmp_path / "data"
    exec_dir = data / "tool_execution_dir"
    exec_dir.mkdir(parents=True)
    (data / "agenthost.db").write_text("the server's database")
    (exec_dir / "input.txt").write_text("for tools")
    config = dataclasses.replace(contained, exec_dir=exec_dir)
    paths = [str(data / "agenthost.db"), str(data), str(exec_dir / "input.txt")]
    result = await run(config, PEEK, args={"server_pid": os.getpid(), "paths": paths})
    assert result.status == "success", result
    files, listings = result.func_return["files"], result.func_return["listings"]
    assert files[str(data / "agenthost.db")] == "ERR FileNotFoundError"
    assert listings[str(data)] == ["tool_execution_dir"]
    assert files[str(exec_dir / "input.txt")] == "for tools"


@needs_namespaces
async def test_the_server_home_is_invisible(contained):
    home = Path.home()
    entries = sorted(p.name for p in home.iterdir()) if home.is_dir() else []
    src = "import os\ndef ls(path: str):\n    return sorted(os.listdir(path)) if os.path.isdir(path) else None\n"
    result = await run(contained, src, args={"path": str(home)})
    assert result.status == "success", result
    seen = result.func_return or []
    # only the parents of paths the interpreter needs (say ~/.pyenv when Python lives there) may show
    python_dirs = {Path(p).parts[len(home.parts)] for p in (os.path.realpath(sys.base_prefix), sys.prefix)
                   if Path(p).is_relative_to(home)}
    if not set(entries) - python_dirs:
        pytest.skip(f"{home} holds nothing but the interpreter: nothing to hide")
    assert set(seen) <= python_dirs


@needs_namespaces
async def test_a_tool_writes_only_in_its_private_tmp_and_imports_from_its_venv(contained, tmp_path):
    exec_dir = tmp_path / "box"
    exec_dir.mkdir()
    config = dataclasses.replace(contained, exec_dir=exec_dir)
    src = '''
import os, tempfile
def work():
    import anyio  # a package of the interpreter's venv
    out = {"home": os.environ["HOME"], "cwd": os.getcwd(), "anyio": anyio.__name__}
    out["before"] = sorted(os.listdir(tempfile.gettempdir()))
    with open(os.path.join(os.environ["HOME"], "note.txt"), "w") as f:
        f.write("mine")
    with open(os.path.join(tempfile.gettempdir(), "note.txt")) as f:
        out["note"] = f.read()
    for target in ("/usr/agenthost-probe", "/etc/agenthost-probe", "here.txt", "/agenthost-probe"):
        try:
            open(target, "w").close()
            out[target] = "written"
        except OSError as exc:
            out[target] = type(exc).__name__
    return out
'''
    async with LocalSandbox(config) as sb:
        first = await sb.run(SandboxRequest(source_code=src))
        second = await sb.run(SandboxRequest(source_code=src))
    assert first.status == "success", first
    ret = first.func_return
    assert ret["home"] == "/tmp" and ret["cwd"] == str(exec_dir) and ret["anyio"] == "anyio"
    assert ret["note"] == "mine" and "note.txt" not in ret["before"]
    assert "note.txt" not in second.func_return["before"]  # private per call: nothing left from the first
    for target in ("/usr/agenthost-probe", "/etc/agenthost-probe", "here.txt", "/agenthost-probe"):
        assert ret[target] in ("PermissionError", "OSError"), (target, ret[target])
    assert not (exec_dir / "here.txt").exists()


@needs_namespaces
@needs_root
async def test_a_root_server_runs_tools_as_an_unprivileged_user(contained):
    src = "import os\ndef me():\n    return [os.getuid(), os.geteuid(), os.getgid(), os.getgroups()]\n"
    async with LocalSandbox(contained) as sb:
        result = await sb.run(SandboxRequest(source_code=src))
        report = sb.containment
    assert result.func_return == [65534, 65534, 65534, []]
    assert report["namespaces"] is True and "65534" in report["user"]


@pytest.fixture
def loopback_http() -> Iterator[str]:
    class Hello(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.end_headers()
            self.wfile.write(b"hello from loopback")

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Hello)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()


FETCH = '''
import urllib.request
def fetch(url: str) -> str:
    with urllib.request.urlopen(url, timeout=5) as resp:
        return resp.read().decode()
'''


@needs_namespaces
@pytest.mark.parametrize("network", [True, False], ids=["network-on", "network-off"])
async def test_network_is_on_by_default_and_off_when_configured(contained, loopback_http, network):
    config = dataclasses.replace(contained, network=network)
    async with LocalSandbox(config) as sb:
        result = await sb.run(SandboxRequest(source_code=FETCH, args={"url": loopback_http}))
        assert sb.containment["network"] is network
    if network:
        assert result.status == "success", result
        assert result.func_return == "hello from loopback"
    else:
        assert result.status == "error"
        assert "URLError" in result.error and "Connection refused" in result.error


async def test_namespaces_asked_for_but_unavailable_is_a_clear_start_error(local_config, tmp_path):
    config = dataclasses.replace(local_config, isolation="namespaces", bwrap_path=tmp_path / "no-bwrap")
    with pytest.raises(SandboxStartError, match="isolation='namespaces'"):
        async with LocalSandbox(config):
            pass


async def test_network_off_without_namespaces_is_a_clear_start_error(local_config):
    config = dataclasses.replace(local_config, isolation="process", network=False)
    with pytest.raises(SandboxStartError, match="network=False needs namespaces"):
        async with LocalSandbox(config):
            pass


def _readable_by(uid: int, path: Path) -> bool:
    """Can ``uid`` (no groups of root) traverse to and read ``path``? (owner/other bits only)."""
    for p in [*reversed(path.parents), path]:
        st = p.stat()
        bit = 0o100 if st.st_uid == uid else 0o001
        if p != path and not st.st_mode & bit:
            return False
    return True


@needs_root
async def test_without_namespaces_a_root_server_still_runs_tools_as_another_user(local_config):
    python = Path("/usr/bin/python3")
    if not python.exists() or not _readable_by(65534, Path(__file__).resolve().parents[2] / "sandbox" / "_runner.py"):
        pytest.skip("needs a system python and a checkout readable by uid 65534")
    config = dataclasses.replace(local_config, isolation="process", python_executable=python)
    src = "import os\ndef me():\n    return [os.getuid(), os.getgid(), os.getgroups(), os.environ['HOME']]\n"
    async with LocalSandbox(config) as sb:
        result = await sb.run(SandboxRequest(source_code=src))
        report = sb.containment
    assert result.status == "success", result
    assert result.func_return[:3] == [65534, 65534, []]
    assert report["namespaces"] is False and "isolation='process'" in report["reason"]


@needs_root
async def test_without_namespaces_an_interpreter_the_tool_user_cannot_read_is_a_start_error(local_config):
    python = Path(local_config.python_executable)
    if _readable_by(65534, Path(os.path.realpath(python))):
        pytest.skip("the server's interpreter is readable by uid 65534 here")
    config = dataclasses.replace(local_config, isolation="process")
    with pytest.raises(SandboxStartError, match="not usable by uid 65534"):
        async with LocalSandbox(config):
            pass


async def test_without_bubblewrap_the_fallback_is_said_once_and_reported(local_config, tmp_path, caplog):
    python = Path("/usr/bin/python3")
    readable = _readable_by(65534, Path(__file__).resolve().parents[2] / "sandbox" / "_runner.py")
    if os.geteuid() == 0 and (not python.exists() or not readable):
        pytest.skip("needs a system python and a checkout readable by uid 65534")
    config = dataclasses.replace(local_config, bwrap_path=tmp_path / "no-bwrap", python_executable=python)
    with caplog.at_level("WARNING", logger="sandbox"):
        for _ in range(2):
            async with LocalSandbox(config) as sb:
                report = sb.containment
                result = await sb.run(SandboxRequest(source_code="def f():\n    return 'ran'\n"))
    assert result.func_return == "ran"
    assert report["namespaces"] is False and "no-bwrap" in report["reason"]
    warnings = [r for r in caplog.records if "NOT contained in namespaces" in r.getMessage()]
    assert len(warnings) == 1
