"""Containment through a real ``agenthost serve`` with a password: a tool cannot learn the server's secrets.

The finding this guards: a custom tool read ``/proc/<server pid>/environ`` (OPENAI_API_KEY,
LETTA_SERVER_PASSWORD) and then called the REST API with the password.
"""

from __future__ import annotations

import json
import secrets
import shutil
import time
from pathlib import Path

import httpx
import pytest

from sandbox._confine import bwrap_problem

NO_NAMESPACES = bwrap_problem(shutil.which("bwrap"), True)
pytestmark = pytest.mark.skipif(NO_NAMESPACES is not None, reason=f"no namespaces here: {NO_NAMESPACES}")

# Reads everything a tool could learn the secrets from: the environment and command line of every
# visible process, and every readable file changed since the server started (the secrets exist only
# since then), and tries the REST API without the password.
HUNT = '''
import json, os, urllib.error, urllib.request

def hunt(needles: list, control: str, server_pid: int, since: float, data_dir: str, base_url: str) -> str:
    found, read_files = [], 0
    with open(os.path.join(os.environ["HOME"], "scratch.txt"), "w") as f:
        f.write(control)  # proves the hunt finds what is there
    needles = [*needles, control]
    def check(where, data):
        for n in needles:
            if n.encode() in data:
                found.append([where, needles.index(n)])
    def read(path):
        try:
            with open(path, "rb") as f:
                return f.read(4_000_000)
        except OSError as exc:
            return None
    pids = sorted(int(p) for p in os.listdir("/proc") if p.isdigit())
    for p in pids:
        for part in ("environ", "cmdline"):
            data = read(f"/proc/{p}/{part}")
            if data:
                check(f"/proc/{p}/{part}", data)
    for top in os.listdir("/"):
        if top in ("proc", "sys", "dev"):
            continue
        for root, dirs, files in os.walk("/" + top):
            for name in files:
                path = os.path.join(root, name)
                try:
                    st = os.lstat(path)
                except OSError:
                    continue
                if st.st_mtime >= since and st.st_size < 4_000_000 and not os.path.islink(path):
                    data = read(path)
                    if data is not None:
                        read_files += 1
                        check(path, data)
    try:
        with urllib.request.urlopen(base_url + "/v1/agents/", timeout=5) as resp:
            api = resp.status
    except urllib.error.HTTPError as exc:
        api = exc.code
    except OSError as exc:
        api = repr(exc)
    return json.dumps({
        "found": found, "pids": pids, "read_files": read_files, "api_without_password": api,
        "server_environ": read(f"/proc/{server_pid}/environ") is not None,
        "pid1_environ": read("/proc/1/environ") is not None,
        "data_dir": sorted(os.listdir(data_dir)) if os.path.isdir(data_dir) else None,
        "uid": os.getuid(),
    })
'''


def test_a_tool_cannot_learn_the_server_password_or_keys(make_server, tmp_path: Path) -> None:
    password = "pw-" + secrets.token_hex(16)
    api_key = "sk-fake-" + secrets.token_hex(16)
    home = tmp_path / "home"
    home.mkdir()
    (home / "notes.txt").write_text(f"the password is {password}\n")  # a secret in the server's home / data dir
    since = time.time() - 1
    server = make_server({"SECURE": "true", "LETTA_SERVER_PASSWORD": password, "OPENAI_API_KEY": api_key},
                         home=home, llm=False)
    assert server.proc is not None
    auth = {"Authorization": f"Bearer {password}"}
    with httpx.Client(base_url=server.base_url, headers=auth, timeout=120) as http:
        assert httpx.get(server.base_url + "/v1/agents/", timeout=10).status_code == 401
        containment = http.get("/v1/sandbox-config/containment")
        assert containment.status_code == 200, containment.text
        assert containment.json()["namespaces"] is True and containment.json()["network"] is True
        resp = http.post("/v1/tools/run", json={"source_code": HUNT, "args": {
            "needles": [password, api_key], "control": "control-" + secrets.token_hex(8), "server_pid": server.proc.pid, "since": since,
            "data_dir": str(home), "base_url": server.base_url}})
        assert resp.status_code == 200, resp.text
        body = resp.json()
        assert body["status"] == "success", f"{body['tool_return']}\n{body.get('stderr')}"
        ret = json.loads(body["tool_return"])
        assert ret["found"] == [["/tmp/scratch.txt", 2]]  # only the control it wrote itself
        assert ret["read_files"] > 0
        assert ret["server_environ"] is False and ret["pid1_environ"] is False
        assert ret["pids"] == [1, 2]
        assert ret["data_dir"] is None or "notes.txt" not in ret["data_dir"]
        assert ret["api_without_password"] == 401  # network is on: it reaches the API, but cannot log in
        assert ret["uid"] != 0

        listed = http.post("/v1/sandbox-config/local/default")
        assert listed.status_code == 200, listed.text
        assert listed.json()["containment"]["namespaces"] is True


FETCH = '''
import urllib.error, urllib.request
def fetch(url: str) -> str:
    try:
        with urllib.request.urlopen(url, timeout=5) as resp:
            return str(resp.status)
    except urllib.error.HTTPError as exc:
        return str(exc.code)
'''


def test_network_follows_the_local_sandbox_config(make_server, tmp_path: Path) -> None:
    server = make_server(llm=False)
    with httpx.Client(base_url=server.base_url, timeout=120) as http:
        def fetch() -> dict:
            resp = http.post("/v1/tools/run", json={"source_code": FETCH, "args": {"url": server.base_url + "/v1/health/"}})
            assert resp.status_code == 200, resp.text
            return resp.json()

        assert fetch()["tool_return"] == "200"  # on by default: tools call APIs
        off = http.post("/v1/sandbox-config/local", json={"sandbox_dir": str(tmp_path / "box"), "network": False})
        assert off.status_code == 200, off.text
        assert off.json()["config"]["network"] is False and off.json()["containment"]["network"] is False
        assert http.get("/v1/sandbox-config/containment").json()["network"] is False
        out = fetch()
        assert out["status"] == "error" and "Connection refused" in out["tool_return"]
        on = http.patch(f"/v1/sandbox-config/{off.json()['id']}", json={"config": {"network": True}})
        assert on.status_code == 200 and on.json()["containment"]["network"] is True
        assert fetch()["tool_return"] == "200"
