"""MCP servers behind OAuth, end to end: a real agenthost, a real OAuth-protected MCP server (the MCP SDK's
server-side auth, tests/peers/oauth_server.py), the connect stream's authorization URL followed with httpx
as a browser whose user approves, the provider's redirect to /v1/tools/mcp/oauth/callback, then the tools
listed and called through the supervised pool."""

from __future__ import annotations

import asyncio
import json
import sqlite3
import subprocess
import sys
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from cryptography.fernet import Fernet

from tests.conftest import PG_ADMIN_URI
from tests.host.mcp.mcp_gateway import EMBEDDING
from tests.mcp_client.oauth_peer import OAUTH_SERVER
from tests.support.server import ServerProcess, free_port
from tests.support.waiting import wait_until

CALLBACK = "/v1/tools/mcp/oauth/callback"


@contextmanager
def oauth_peer(transport: str) -> Iterator[str]:
    port = free_port()
    proc = subprocess.Popen([sys.executable, str(OAUTH_SERVER), "--transport", transport, "--port", str(port)],
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()  # blocks until "READY <port>" (or EOF if the peer died)
        assert line.startswith("READY"), f"the OAuth peer did not start: {line!r}"
        yield f"http://127.0.0.1:{port}{'/sse' if transport == 'sse' else '/mcp'}"
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)


def connect_and_approve(http: httpx.Client, method: str, path: str, **kwargs: Any) -> tuple[list[dict], httpx.Response]:
    """Read a connect stream; when it gives the authorization URL, open it like a browser (no credential)
    whose user approves: the provider redirects to the callback. Returns the events and the callback's answer."""
    events: list[dict] = []
    answer: httpx.Response | None = None
    with http.stream(method, path, timeout=120, **kwargs) as stream:
        assert stream.status_code == 200 and stream.headers["content-type"].startswith("text/event-stream")
        for line in stream.iter_lines():
            if not line.startswith("data:"):
                continue
            events.append(json.loads(line[5:]))
            if events[-1]["event"] == "authorization_url":
                with httpx.Client(follow_redirects=True, timeout=60) as browser:
                    answer = browser.get(events[-1]["url"])
    assert answer is not None, events
    return events, answer


def stored_grants(server: ServerProcess) -> list[str]:
    """The grant column as stored (SQLite or Postgres)."""
    uri = server.env.get("LETTA_PG_URI")
    if uri is None:
        with sqlite3.connect(server.home / "agenthost.db") as db:
            return [row[0] for row in db.execute("SELECT grant_enc FROM mcp_oauth_grants")]

    async def read() -> list[str]:
        import asyncpg

        conn = await asyncpg.connect(uri.replace("postgresql+asyncpg://", "postgresql://"))
        try:
            return [row[0] for row in await conn.fetch("SELECT grant_enc FROM mcp_oauth_grants")]
        finally:
            await conn.close()

    return asyncio.run(read())


def test_an_oauth_server_added_by_id_is_authorized_through_connect_and_its_tools_run(server, http, scripted_llm):
    name = f"locked_{uuid.uuid4().hex[:8]}"
    with oauth_peer("http") as url:
        created = http.post("/v1/mcp-servers/", json={"server_name": name,
                                                        "config": {"mcp_server_type": "streamable_http",
                                                                   "server_url": url}})
        assert created.status_code == 200, created.text
        server_id = created.json()["id"]
        try:
            # No grant yet: the pool says what the server needs instead of an opaque failure.
            wait_until(lambda: http.get(f"/v1/tools/mcp/servers/{name}/status").json()["state"] == "error",
                       timeout=60, what="the unauthorized server to be in error")
            assert "OAuth" in http.get(f"/v1/tools/mcp/servers/{name}/status").json()["last_error"]

            events, callback = connect_and_approve(http, "GET", f"/v1/mcp-servers/connect/{server_id}")
            assert [e["event"] for e in events] == ["connection_attempt", "oauth_required", "authorization_url",
                                                    "waiting_for_auth", "success"]
            auth_url = events[2]["url"]
            query = parse_qs(urlsplit(auth_url).query)
            assert query["code_challenge_method"] == ["S256"] and len(query["state"][0]) >= 43
            assert query["redirect_uri"] == [f"{server.base_url}{CALLBACK}"]
            assert events[2]["session_id"].startswith("mcp_oauth_session-")
            assert callback.status_code == 200, callback.text
            assert callback.json()["status"] == "success" and callback.json()["server_name"] == name
            assert {"add", "whoami", "stats"} <= {t["name"] for t in events[-1]["tools"]}

            # The pool now connects with the stored grant: the tools are rows, and they run.
            tools = http.get(f"/v1/mcp-servers/{server_id}/tools")
            assert tools.status_code == 200, tools.text
            add = next(t for t in tools.json() if t["name"].endswith("add"))
            ran = http.post(f"/v1/mcp-servers/{server_id}/tools/{add['id']}/run", json={"args": {"a": 2, "b": 3}})
            assert ran.status_code == 200, ran.text
            assert ran.json()["status"] == "success" and ran.json()["func_return"] == "5"

            # An agent's turn calls it too (the scripted model asks for whoami: the token's client id answers).
            whoami = next(t for t in tools.json() if t["name"].endswith("whoami"))
            model = f"oauth-model-{uuid.uuid4().hex[:8]}"
            agent = http.post("/v1/agents/", json={
                "name": f"oauth-agent-{uuid.uuid4().hex[:8]}", "model": f"openai-proxy/{model}",
                "embedding": EMBEDDING, "tool_ids": [whoami["id"]],
                "memory_blocks": [{"label": "human", "value": "Ada"}, {"label": "persona", "value": "Helpful."}]})
            assert agent.status_code == 200, agent.text
            try:
                scripted_llm.for_model(model).push_tool_call(whoami["name"], {})
                turn = http.post(f"/v1/agents/{agent.json()['id']}/messages",
                                 json={"messages": [{"role": "user", "content": "who am I to that server?"}]})
                assert turn.status_code == 200, turn.text
                [returned] = [m for m in turn.json()["messages"] if m["message_type"] == "tool_return_message"]
                assert returned["status"] == "success" and returned["tool_return"] != "anonymous"
                client_id = returned["tool_return"]
            finally:
                http.delete(f"/v1/agents/{agent.json()['id']}")

            # The state is single use: the same redirect again is refused, naming the state.
            replay = http.get(CALLBACK, params=parse_qs(urlsplit(str(callback.url)).query))
            assert replay.status_code == 400 and "state" in replay.json()["detail"]

            # Stored encrypted: no token in the clear, and the server's key opens it.
            [sealed] = stored_grants(server)
            assert "access_token" not in sealed and "refresh_token" not in sealed
            grant = json.loads(Fernet((server.home / "secret.key").read_bytes().strip()).decrypt(sealed.encode()))
            assert grant["tokens"]["access_token"] and grant["client_info"]["client_id"] == client_id
            for answer in (http.get(f"/v1/mcp-servers/{server_id}"), http.get("/v1/tools/mcp/servers"), created):
                assert grant["tokens"]["access_token"] not in answer.text
            assert grant["tokens"]["access_token"] not in server.log()
        finally:
            assert http.delete(f"/v1/mcp-servers/{server_id}").status_code == 204


def test_legacy_connect_authorizes_an_sse_server_that_is_then_added_and_runs_with_the_stored_grant(server, http):
    name = f"locked_sse_{uuid.uuid4().hex[:8]}"
    with oauth_peer("sse") as url:
        config = {"server_name": name, "type": "sse", "server_url": url}
        events, callback = connect_and_approve(http, "POST", "/v1/tools/mcp/servers/connect", json=config)
        assert callback.status_code == 200, callback.text
        assert [e["event"] for e in events][-1] == "success", events
        assert name not in http.get("/v1/tools/mcp/servers").json(), "connect tries the config, stores nothing"

        assert http.put("/v1/tools/mcp/servers", json=config).status_code == 200
        try:
            ran = http.post(f"/v1/tools/mcp/servers/{name}/tools/add/execute", json={"args": {"a": 20, "b": 22}})
            assert ran.status_code == 200, ran.text
            assert ran.json() == {"result": "42", "success": True}
        finally:
            http.delete(f"/v1/tools/mcp/servers/{name}")


def test_a_refusal_at_the_provider_ends_the_connect_with_an_error_naming_it(http):
    with oauth_peer("http") as url:
        config = {"server_name": f"refused_{uuid.uuid4().hex[:8]}", "type": "streamable_http", "server_url": url}
        events: list[dict] = []
        with http.stream("POST", "/v1/tools/mcp/servers/connect", json=config, timeout=120) as stream:
            for line in stream.iter_lines():
                if not line.startswith("data:"):
                    continue
                events.append(json.loads(line[5:]))
                if events[-1]["event"] == "authorization_url":  # the user says no: the provider redirects so
                    state = parse_qs(urlsplit(events[-1]["url"]).query)["state"][0]
                    refused = http.get(CALLBACK, params={"state": state, "error": "access_denied",
                                                         "error_description": "the user said no"})
                    assert refused.status_code == 400 and "access_denied" in refused.json()["detail"]
        assert [e["event"] for e in events][-2:] == ["waiting_for_auth", "error"]
        assert "access_denied" in events[-1]["message"]


def test_bad_callbacks_are_400s_naming_the_problem_and_an_unknown_server_is_a_404(http):
    assert http.get(CALLBACK, params={"code": "abc"}).status_code == 400
    assert "state" in http.get(CALLBACK, params={"code": "abc"}).json()["detail"]
    unknown = http.get(CALLBACK, params={"code": "abc", "state": "x" * 43})
    assert unknown.status_code == 400 and "state" in unknown.json()["detail"]
    no_code = http.get(CALLBACK, params={"state": "x" * 43})
    assert no_code.status_code == 400 and "code" in no_code.json()["detail"]
    missing = http.get(f"/v1/mcp-servers/connect/mcp_server-{uuid.uuid4()}")
    assert missing.status_code == 404 and "not found" in missing.json()["detail"]


@pytest.mark.skipif(not PG_ADMIN_URI, reason="a fleet shares a Postgres database (run with AGENTHOST_TEST_PG_URI)")
def test_the_redirect_may_reach_another_server_process_of_the_fleet(make_server):
    from tests.conftest import test_database_uri

    uri = test_database_uri()
    shared = {"AGENTHOST_SECRET_KEY": Fernet.generate_key().decode()}  # a fleet shares its secret key
    first, second = make_server(shared, pg_uri=uri), make_server(shared, pg_uri=uri)
    name = f"fleet_{uuid.uuid4().hex[:8]}"
    with oauth_peer("http") as url, httpx.Client(base_url=first.base_url) as http:
        config = {"server_name": name, "type": "streamable_http", "server_url": url}
        events: list[dict] = []
        with http.stream("POST", "/v1/tools/mcp/servers/connect", json=config, timeout=120) as stream:
            for line in stream.iter_lines():
                if not line.startswith("data:"):
                    continue
                events.append(json.loads(line[5:]))
                if events[-1]["event"] == "authorization_url":  # approve, and take the redirect to the other
                    approved = httpx.get(events[-1]["url"], follow_redirects=False)
                    assert approved.status_code == 302
                    query = urlsplit(approved.headers["location"]).query
                    answer = httpx.get(f"{second.base_url}{CALLBACK}?{query}")
                    assert answer.status_code == 200, answer.text
        assert events[-1]["event"] == "success" and "add" in {t["name"] for t in events[-1]["tools"]}
        # The grant is shared too: the server added through the second process connects with it.
        assert httpx.put(f"{second.base_url}/v1/tools/mcp/servers", json=config).status_code == 200
        ran = httpx.post(f"{second.base_url}/v1/tools/mcp/servers/{name}/tools/add/execute",
                         json={"args": {"a": 1, "b": 2}}, timeout=60)
        assert ran.status_code == 200 and ran.json() == {"result": "3", "success": True}, ran.text


@pytest.mark.parametrize("presented", [None, "secret"])
def test_with_a_password_the_callback_needs_the_credential_and_the_401_says_how_to_finish(make_server, presented):
    secure = make_server({"SECURE": "true", "LETTA_SERVER_PASSWORD": "secret"})
    headers = {"Authorization": f"Bearer {presented}"} if presented else {}
    answer = httpx.get(f"{secure.base_url}{CALLBACK}", params={"code": "abc", "state": "y" * 43}, headers=headers)
    if presented is None:
        assert answer.status_code == 401 and "OAuth redirect" in answer.json()["detail"]
    else:
        assert answer.status_code == 400 and "state" in answer.json()["detail"]


def _org_key(http: httpx.Client, tag: str) -> dict[str, str]:
    """A user key of a new organization (the session's server is open: the admin routes need no password)."""
    org = http.post("/v1/admin/orgs/", json={"name": f"{tag}-{uuid.uuid4().hex[:6]}"}).json()
    user = http.post("/v1/admin/users/", json={"name": f"{tag}-user", "organization_id": org["id"]}).json()
    key = http.post(f"/v1/admin/users/{user['id']}/keys").json()["key"]
    return {"Authorization": f"Bearer {key}"}


def _whoami(http: httpx.Client, h: dict[str, str], name: str) -> str:
    ran = http.post(f"/v1/tools/mcp/servers/{name}/tools/whoami/execute", headers=h, json={"args": {}}, timeout=60)
    assert ran.status_code == 200 and ran.json()["success"], ran.text
    return ran.json()["result"]


def test_a_grant_is_its_organizations_another_organization_at_the_same_url_authorizes_its_own(http):
    a, b = _org_key(http, "grant-a"), _org_key(http, "grant-b")
    with oauth_peer("http") as url:
        config = {"config": {"mcp_server_type": "streamable_http", "server_url": url}}
        name_a, name_b = f"granted_{uuid.uuid4().hex[:8]}", f"granted_{uuid.uuid4().hex[:8]}"
        id_a = http.post("/v1/mcp-servers/", headers=a, json={"server_name": name_a, **config}).json()["id"]
        id_b = None
        try:
            events, callback = connect_and_approve(http, "GET", f"/v1/mcp-servers/connect/{id_a}", headers=a)
            assert callback.status_code == 200 and events[-1]["event"] == "success", events
            client_a = _whoami(http, a, name_a)

            # B adds a server at the URL A authorized: it does not connect with A's grant.
            created = http.post("/v1/mcp-servers/", headers=b, json={"server_name": name_b, **config})
            assert created.status_code == 200, created.text
            id_b = created.json()["id"]
            status = f"/v1/tools/mcp/servers/{name_b}/status"
            wait_until(lambda: http.get(status, headers=b).json()["state"] == "error", timeout=60,
                       what="B's server to need its own authorization")
            assert "OAuth" in http.get(status, headers=b).json()["last_error"]

            # B's connect runs its own authorization, which registers its own client.
            events, callback = connect_and_approve(http, "GET", f"/v1/mcp-servers/connect/{id_b}", headers=b)
            assert "oauth_required" in [e["event"] for e in events] and events[-1]["event"] == "success", events
            assert callback.status_code == 200, callback.text
            client_b = _whoami(http, b, name_b)
            assert client_a != client_b and _whoami(http, a, name_a) == client_a
        finally:
            assert http.delete(f"/v1/mcp-servers/{id_a}", headers=a).status_code == 204
            if id_b is not None:
                assert http.delete(f"/v1/mcp-servers/{id_b}", headers=b).status_code == 204


def test_a_config_file_servers_grant_is_everyones_and_only_the_admin_gives_it(make_server, tmp_path):
    with oauth_peer("http") as url:
        home = tmp_path / "shared-home"
        home.mkdir()
        (home / "mcp_config.json").write_text(json.dumps({"mcpServers": {"operators": {
            "transport": "streamable_http", "url": url}}}))
        srv = make_server(home=home)
        with httpx.Client(base_url=srv.base_url, timeout=60) as http:
            user = _org_key(http, "shared")
            listed = http.get("/v1/mcp-servers/", headers=user).json()
            server_id = next(s["id"] for s in listed if s["server_name"] == "operators")
            wait_until(lambda: http.get("/v1/tools/mcp/servers/operators/status").json()["state"] == "error",
                       timeout=60, what="the config-file server to need authorization")

            # A user key may not authorize it for everyone.
            with http.stream("GET", f"/v1/mcp-servers/connect/{server_id}", headers=user, timeout=60) as stream:
                events = [json.loads(line[5:]) for line in stream.iter_lines() if line.startswith("data:")]
            assert events[-1]["event"] == "error" and "only the admin" in events[-1]["message"], events
            assert "authorization_url" not in [e["event"] for e in events]

            # The admin does; then every organization's calls go out with that grant.
            events, callback = connect_and_approve(http, "GET", f"/v1/mcp-servers/connect/{server_id}")
            assert callback.status_code == 200 and events[-1]["event"] == "success", events
            assert _whoami(http, user, "operators") == _whoami(http, {}, "operators") != "anonymous"
