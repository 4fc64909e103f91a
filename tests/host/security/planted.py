"""What the security tests plant: secrets in MCP servers, an agent and a sandbox config, and the exercise.

Planted: an MCP stdio server that fails at start echoing its arguments (argparse), a working one whose
tools repeat their secrets in error results and on stderr, a streamable-HTTP one whose loopback endpoint
refuses every request quoting the URL and headers it received, an agent's tool variables and a sandbox
config variable read by a custom tool that fails printing them. ``Scenario`` keeps every answer the
planting and the agent's turns got, for the tests to search.
"""

from __future__ import annotations

import json
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from tests.support.loopback import LoopbackServer
from tests.support.scripted_llm import ScriptedLLM
from tests.support.server import ServerProcess

LEAKY = str(Path(__file__).with_name("leaky_server.py"))
EMBEDDING = "openai/text-embedding-3-small"

# Every value below must stay out of answers, logs and model requests (the sandbox one: see SANDBOX_SECRET).
ARG_SECRET = "argsecret-after-api-key-flag"
FLAG_SECRET = "flagsecret-attached-with-eq"
PLAIN_ARG = "plainarg-positional-value"
NAME_ARG = "namearg-value-of-name-flag"
PATCH_ARG = "patcharg-added-by-a-patch"
ENV_SECRET = "envsecret-of-failing-server"
ENV_SECRET2 = "envsecret-of-leaky-server"
URL_PASSWORD = "urlpassword-in-userinfo"
URL_QUERY = "urlquery-api-key-value"
HEADER_SECRET = "headersecret-x-api-key"
BEARER_SECRET = "bearersecret-auth-token"
AGENT_SECRET = "agentsecret-tool-variable"
AGENT_EXTRA = "agentextra-added-by-patch"
SECRETS = [ARG_SECRET, FLAG_SECRET, PATCH_ARG, ENV_SECRET, ENV_SECRET2, URL_PASSWORD, URL_QUERY, HEADER_SECRET,
           BEARER_SECRET, AGENT_SECRET, AGENT_EXTRA]
# Plain argument values: shown in a server's `args` (not secret-looking), redacted from everything else.
ARG_VALUES = [PLAIN_ARG, NAME_ARG]
# Sandbox config variables are shown by their own route (Letta's shape); nowhere else.
SANDBOX_SECRET = "sandboxsecret-config-variable"

FAILING_TOOL = '''
def fail_loudly(reason: str) -> str:
    """Fail, printing the variables it was given.

    Args:
        reason (str): Why.

    Returns:
        str: Nothing; it always fails.
    """
    import os
    import sys
    print("stderr of the tool:", os.environ.get("AGENT_SECRET"), os.environ.get("SANDBOX_SECRET"), file=sys.stderr)
    print("stdout of the tool:", os.environ.get("AGENT_EXTRA"))
    raise ValueError(f"bad key {os.environ.get('AGENT_SECRET')} / {os.environ.get('SANDBOX_SECRET')}")
'''

DIGEST_TOOL = '''
def variable_digests() -> str:
    """The sha256 of the agent's variables, to prove which values the tool saw.

    Returns:
        str: JSON of name -> hex digest.
    """
    import hashlib
    import json
    import os
    names = ("AGENT_SECRET", "AGENT_EXTRA", "REGION")
    return json.dumps({n: hashlib.sha256(os.environ.get(n, "").encode()).hexdigest() for n in names})
'''


class RefusingEndpoint(LoopbackServer):
    """A streamable-HTTP "MCP server" that refuses everything, quoting the URL and headers it received."""

    def __init__(self) -> None:
        super().__init__()
        self.seen: list[str] = []

        async def refuse(request: Request) -> JSONResponse:
            seen = f"{request.url} headers={dict(request.headers)}"
            self.seen.append(seen)
            try:
                request_id = json.loads(await request.body()).get("id")
            except ValueError:
                request_id = None
            error = {"code": -32001, "message": f"denied: {seen}"}
            return JSONResponse({"jsonrpc": "2.0", "id": request_id, "error": error}, status_code=401)

        self.app = Starlette(routes=[Route("/{path:path}", refuse, methods=["GET", "POST", "DELETE"])])


@dataclass
class Scenario:
    proc: ServerProcess
    http: httpx.Client
    model: str
    agent_id: str
    servers: dict[str, str]  # role -> server name: failing, leaky, remote
    tool_ids: dict[str, str]
    tool_names: dict[str, str]
    sandbox_config_id: str
    endpoint: RefusingEndpoint
    argv_log: Path = Path("/nonexistent")  # the failing server appends the arguments it really got
    remote_seen_after_patch: list[str] = field(default_factory=list)
    answers: list[tuple[str, httpx.Response]] = field(default_factory=list)  # PUT/POST/PATCH answers

    def keep(self, what: str, response: httpx.Response) -> dict[str, Any] | list[Any]:
        assert response.status_code == 200, f"{what}: {response.status_code} {response.text}"
        self.answers.append((what, response))
        return response.json()  # type: ignore[no-any-return]

    def log_text(self) -> str:
        assert self.proc.log_path is not None
        return self.proc.log_path.read_text(errors="replace")


def send(sc: Scenario, text: str) -> dict[str, Any]:
    body = sc.keep(f"message {text!r}", sc.http.post(f"/v1/agents/{sc.agent_id}/messages",
                                                       json={"messages": [{"role": "user", "content": text}]}))
    assert isinstance(body, dict)
    return body


def wait_for_state(sc: Scenario, name: str, state: str, timeout: float = 60.0) -> httpx.Response:
    """Poll the server under test (another process) until MCP server `name` is in `state`, bounded."""
    deadline = time.monotonic() + timeout
    while True:
        resp = sc.http.get(f"/v1/tools/mcp/servers/{name}/status")
        if resp.status_code != 200 or resp.json()["state"] == state or time.monotonic() > deadline:
            return resp
        time.sleep(0.05)


def plant(sc: Scenario, scripted_llm: ScriptedLLM, tag: str) -> None:
    failing, leaky, remote = sc.servers["failing"], sc.servers["leaky"], sc.servers["remote"]
    put = "/v1/tools/mcp/servers"
    sc.keep("PUT failing", sc.http.put(put, json={
        "server_name": failing, "command": sys.executable,
        "args": [LEAKY, "--api-key", ARG_SECRET, f"--token={FLAG_SECRET}", PLAIN_ARG],
        "env": {"LEAKY_TOKEN": ENV_SECRET, "LEAKY_ARGV_LOG": str(sc.argv_log)}}))
    sc.keep("PUT leaky", sc.http.put(put, json={
        "server_name": leaky, "command": sys.executable, "args": [LEAKY, "--name", NAME_ARG],
        "env": {"LEAKY_TOKEN": ENV_SECRET2}}))
    sc.keep("PUT remote", sc.http.put(put, json={
        "server_name": remote, "type": "streamable_http",
        "server_url": f"http://operator:{URL_PASSWORD}@127.0.0.1:{sc.endpoint.port}/mcp?api_key={URL_QUERY}",
        "auth_header": "Authorization", "auth_token": f"Bearer {BEARER_SECRET}",
        "custom_headers": {"X-Api-Key": HEADER_SECRET}}))

    for role in ("failing", "remote"):
        sc.keep(f"status {role}", wait_for_state(sc, sc.servers[role], "error"))
    sc.keep("list servers", sc.http.get(put))

    # The masked views sent back (plus a change, so that the servers restart) keep the stored secrets.
    failing_view = sc.http.get(f"{put}/{failing}").json()
    sc.keep("PATCH failing masked", sc.http.patch(f"{put}/{failing}", json={"args": failing_view["args"],
                                                                             "timeout": 7}))
    sc.keep("status failing again", wait_for_state(sc, failing, "error"))
    remote_view = sc.http.get(f"{put}/{remote}").json()
    before = len(sc.endpoint.seen)
    sc.keep("PATCH remote masked", sc.http.patch(f"{put}/{remote}", json={
        "server_url": remote_view["server_url"], "auth_header": remote_view["auth_header"],
        "auth_token": remote_view["auth_token"], "custom_headers": remote_view["custom_headers"], "timeout": 7}))
    sc.keep("status remote again", wait_for_state(sc, remote, "error"))
    sc.remote_seen_after_patch = sc.endpoint.seen[before:]
    for tool in ("leak", "crash", "echo"):
        registered = sc.keep(f"register {tool}", sc.http.post(f"{put}/{leaky}/tools/{tool}"))
        assert isinstance(registered, dict)
        sc.tool_ids[tool], sc.tool_names[tool] = registered["id"], registered["name"]
    for name, source in (("fail_loudly", FAILING_TOOL), ("variable_digests", DIGEST_TOOL)):
        created = sc.keep(f"tool {name}", sc.http.post("/v1/tools", json={"source_code": source}))
        assert isinstance(created, dict)
        sc.tool_ids[name] = created["id"]

    config = sc.keep("sandbox config", sc.http.post("/v1/sandbox-config/local/default"))
    assert isinstance(config, dict)
    sc.sandbox_config_id = config["id"]
    sc.http.post(f"/v1/sandbox-config/{config['id']}/environment-variable",
                 json={"key": "SANDBOX_SECRET", "value": SANDBOX_SECRET}).raise_for_status()

    agent = sc.keep("create agent", sc.http.post("/v1/agents", json={
        "name": f"secrets-{tag}", "model": f"openai-proxy/{sc.model}", "embedding": EMBEDDING,
        "memory_blocks": [{"label": "human", "value": "Ada"}, {"label": "persona", "value": "Careful."}],
        "tool_ids": list(sc.tool_ids.values()),
        "tool_exec_environment_variables": {"AGENT_SECRET": AGENT_SECRET, "REGION": "eu"}}))
    assert isinstance(agent, dict)
    sc.agent_id = agent["id"]
    # The masked value sent back keeps the stored secret; a new variable is added alongside.
    sc.keep("PATCH agent", sc.http.patch(f"/v1/agents/{sc.agent_id}", json={
        "tool_exec_environment_variables": {"AGENT_SECRET": "****", "REGION": "eu", "AGENT_EXTRA": AGENT_EXTRA}}))

    queue = scripted_llm.for_model(sc.model)
    beat = {"request_heartbeat": True}
    queue.push_tool_call(sc.tool_names["leak"], beat)
    queue.push_tool_call("fail_loudly", {"reason": "test", **beat})
    queue.push_tool_call("variable_digests", beat)
    queue.push_tool_call(sc.tool_names["crash"], beat)
    queue.push_tool_call("send_message", {"message": "done"})
    send(sc, "first turn")

    # The working server now fails at start: its stderr (the arguments) is what the next call reports.
    sc.keep("PATCH leaky", sc.http.patch(f"{put}/{leaky}", json={
        "args": [LEAKY, "--name", NAME_ARG, "--api-key", PATCH_ARG]}))
    queue.push_tool_call(sc.tool_names["echo"], {"text": "anyone there?", **beat})
    queue.push_tool_call("send_message", {"message": "done"})
    send(sc, "second turn")
