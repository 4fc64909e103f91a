"""Host and Origin checks: a page on another site (directly or by DNS rebinding) cannot drive the server.

Against a real ``agenthost serve`` bound to 127.0.0.1; the policy's rules are also checked as a table.
"""

from __future__ import annotations

import httpx
import pytest

from host.api.host_guard import HostPolicy
from tests.support.server import ServerProcess

EVIL = "evil.example"
INITIALIZE = {"jsonrpc": "2.0", "id": 1, "method": "initialize",
              "params": {"protocolVersion": "2025-06-18", "capabilities": {},
                         "clientInfo": {"name": "x", "version": "0"}}}
MCP_HEADERS = {"Content-Type": "application/json", "Accept": "application/json, text/event-stream"}


def _own_host(server: ServerProcess) -> str:
    return server.base_url.removeprefix("http://")


def _agent_count(server: ServerProcess) -> int:
    return len(httpx.get(server.base_url + "/v1/agents/", params={"limit": 1000}, timeout=30).json())


def test_the_rebinding_request_to_mcp_is_refused_and_the_same_request_to_the_real_host_is_served(server):
    rebinding = httpx.post(server.base_url + "/mcp", json=INITIALIZE, timeout=30,
                           headers={**MCP_HEADERS, "Host": EVIL, "Origin": f"http://{EVIL}"})
    assert rebinding.status_code == 421, rebinding.text
    assert EVIL in rebinding.json()["detail"] and "AGENTHOST_ALLOWED_HOSTS" in rebinding.json()["detail"]
    assert "mcp-session-id" not in rebinding.headers

    cross_origin = httpx.post(server.base_url + "/mcp", json=INITIALIZE, timeout=30,
                              headers={**MCP_HEADERS, "Origin": f"http://{EVIL}"})
    assert cross_origin.status_code == 403, cross_origin.text
    assert "ACCEPTABLE_ORIGINS" in cross_origin.json()["detail"]

    real = httpx.post(server.base_url + "/mcp", json=INITIALIZE, timeout=30,
                      headers={**MCP_HEADERS, "Host": _own_host(server)})
    assert real.status_code == 200, real.text
    assert real.headers.get("mcp-session-id")


@pytest.mark.parametrize("headers, status", [
    ({"Host": EVIL}, 421),
    ({"Host": f"{EVIL}:8283", "Origin": f"http://{EVIL}:8283"}, 421),
    ({"Origin": f"http://{EVIL}"}, 403),
    ({"Origin": "null"}, 403),
    ({"Sec-Fetch-Site": "cross-site"}, 403),
])
def test_rest_writes_from_a_foreign_host_or_origin_are_refused_and_write_nothing(server, headers, status):
    before = _agent_count(server)
    response = httpx.post(server.base_url + "/v1/agents/", json={"name": "rebound"}, headers=headers, timeout=30)
    assert response.status_code == status, response.text
    assert response.json()["detail"]
    assert _agent_count(server) == before


def test_rest_reads_from_a_foreign_host_are_refused_and_from_the_real_host_served(server):
    assert httpx.get(server.base_url + "/v1/agents/", headers={"Host": EVIL}, timeout=30).status_code == 421
    assert httpx.get(server.base_url + "/v1/agents/", headers={"Origin": f"http://{EVIL}"},
                     timeout=30).status_code == 403
    for host in (_own_host(server), f"localhost:{server.port}", f"[::1]:{server.port}"):
        assert httpx.get(server.base_url + "/v1/agents/", headers={"Host": host}, timeout=30).status_code == 200


def test_a_cross_site_multipart_upload_to_a_source_is_refused_and_stores_nothing(server):
    source = httpx.post(server.base_url + "/v1/sources/", timeout=30,
                        json={"name": "guarded-src", "embedding": "openai/text-embedding-3-small"})
    assert source.status_code == 200, source.text
    source_id = source.json()["id"]
    upload = httpx.post(f"{server.base_url}/v1/sources/{source_id}/upload", timeout=30,
                        files={"file": ("evil.txt", b"planted by a web page", "text/plain")},
                        headers={"Origin": f"http://{EVIL}"})
    assert upload.status_code == 403, upload.text
    files = httpx.get(f"{server.base_url}/v1/sources/{source_id}/files", timeout=30)
    assert files.status_code == 200 and files.json() == []


def test_same_origin_letta_ade_and_loopback_pages_are_served_with_cors(server):
    own = f"http://{_own_host(server)}"
    for origin in (own, "https://app.letta.com", "http://localhost:3000"):
        response = httpx.get(server.base_url + "/v1/agents/", headers={"Origin": origin}, timeout=30)
        assert response.status_code == 200, (origin, response.text)
        assert response.headers.get("access-control-allow-origin") == origin
    preflight = httpx.options(server.base_url + "/v1/agents/", timeout=30, headers={
        "Origin": "https://app.letta.com", "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "authorization, content-type"})
    assert preflight.status_code == 200, preflight.text
    assert preflight.headers["access-control-allow-origin"] == "https://app.letta.com"
    assert "authorization" in preflight.headers["access-control-allow-headers"].lower()
    foreign = httpx.options(server.base_url + "/v1/agents/", timeout=30, headers={
        "Origin": f"http://{EVIL}", "Access-Control-Request-Method": "POST"})
    assert foreign.status_code == 403
    assert "access-control-allow-origin" not in foreign.headers


def test_configured_hosts_and_origins_are_served_and_the_guard_runs_before_the_password(make_server):
    srv = make_server({"AGENTHOST_ALLOWED_HOSTS": "agents.example.com,*.corp.example",
                       "ACCEPTABLE_ORIGINS": "https://ade.example", "SECURE": "true",
                       "LETTA_SERVER_PASSWORD": "pw-guard-test"})
    auth = {"Authorization": "Bearer pw-guard-test"}
    for host in ("agents.example.com", "team.corp.example:443"):
        ok = httpx.get(srv.base_url + "/v1/agents/", headers={**auth, "Host": host}, timeout=30)
        assert ok.status_code == 200, (host, ok.text)
    assert httpx.get(srv.base_url + "/v1/agents/", headers={**auth, "Host": EVIL}, timeout=30).status_code == 421
    cors = httpx.get(srv.base_url + "/v1/agents/", headers={**auth, "Origin": "https://ade.example"}, timeout=30)
    assert cors.status_code == 200 and cors.headers["access-control-allow-origin"] == "https://ade.example"
    # The password does not make a foreign origin acceptable, and a preflight needs no password.
    assert httpx.get(srv.base_url + "/v1/agents/", headers={**auth, "Origin": f"http://{EVIL}"},
                     timeout=30).status_code == 403
    preflight = httpx.options(srv.base_url + "/v1/agents/", timeout=30, headers={
        "Origin": "https://ade.example", "Access-Control-Request-Method": "GET",
        "Access-Control-Request-Headers": "authorization"})
    assert preflight.status_code == 200
    assert httpx.get(srv.base_url + "/v1/health/", headers={"Host": EVIL}, timeout=30).status_code == 421


@pytest.mark.parametrize("bind, allowed, host, served", [
    ("127.0.0.1", (), "127.0.0.1:8283", True),
    ("127.0.0.1", (), "127.8.9.1", True),
    ("127.0.0.1", (), "localhost:1", True),
    ("127.0.0.1", (), "letta.localhost", True),
    ("127.0.0.1", (), "[::1]:8283", True),
    ("127.0.0.1", (), "evil.example", False),
    ("127.0.0.1", (), "localhost.evil.example", False),
    ("127.0.0.1", (), "10.0.0.5:8283", False),
    ("127.0.0.1", (), None, False),
    ("127.0.0.1", ("*",), "anything.example", True),
    ("127.0.0.1", ("agents.example.com",), "AGENTS.example.com:8283", True),
    ("127.0.0.1", ("*.example.com",), "a.b.example.com", True),
    ("127.0.0.1", ("*.example.com",), "example.com", False),
    ("0.0.0.0", (), "10.0.0.5:8283", True),
    ("0.0.0.0", (), "[2001:db8::1]:8283", True),
    ("0.0.0.0", (), "evil.example", False),
    ("::1", (), "evil.example", False),
    ("localhost", (), "localhost:8283", True),
])
def test_host_policy_table(bind, allowed, host, served):
    assert (HostPolicy.for_bind(bind, allowed).host_refusal(host) is None) is served


@pytest.mark.parametrize("origins, method, origin, fetch_site, host, served", [
    ((), "POST", None, None, "127.0.0.1:8283", True),
    ((), "POST", "http://127.0.0.1:8283", None, "127.0.0.1:8283", True),
    ((), "POST", "http://localhost:5173", None, "127.0.0.1:8283", True),
    ((), "POST", "https://app.letta.com", None, "127.0.0.1:8283", True),
    ((), "POST", "https://app.letta.com.evil.example", None, "127.0.0.1:8283", False),
    ((), "POST", "http://evil.example", None, "127.0.0.1:8283", False),
    ((), "GET", "http://evil.example", None, "127.0.0.1:8283", False),
    ((), "POST", "http://127.0.0.1.evil.example", None, "127.0.0.1:8283", False),
    ((), "POST", None, "cross-site", "127.0.0.1:8283", False),
    ((), "GET", None, "cross-site", "127.0.0.1:8283", True),
    ((), "POST", None, "same-origin", "127.0.0.1:8283", True),
    (("https://ade.example",), "POST", "https://ade.example/", None, "127.0.0.1:8283", True),
    (("*",), "POST", "http://evil.example", None, "127.0.0.1:8283", True),
])
def test_origin_policy_table(origins, method, origin, fetch_site, host, served):
    policy = HostPolicy.for_bind("127.0.0.1", (), origins)
    assert (policy.origin_refusal(method, origin, fetch_site, host) is None) is served
