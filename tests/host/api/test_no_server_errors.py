"""Bad input is a 4xx naming the problem, never a 500 (regressions of a black-box run), and an error
answer never costs a keep-alive client its connection."""

from __future__ import annotations

import http.client
import json
import sqlite3
import uuid

import pytest

BEYOND_INT64 = str(2**63)
LISTS = ["/v1/agents/", "/v1/identities/", "/v1/blocks/", "/v1/tools/", "/v1/agents/{agent}/messages", "/v1/steps/",
         "/v1/jobs/", "/v1/jobs/active"]


@pytest.mark.parametrize("path", LISTS)
def test_a_limit_beyond_int64_is_422_naming_it(http, make_agent, path):
    if "{agent}" in path:
        path = path.format(agent=make_agent().id)
    resp = http.get(path, params={"limit": BEYOND_INT64})

    assert resp.status_code == 422, resp.text
    assert resp.json()["detail"][0]["loc"] == ["query", "limit"]
    assert str(2**63 - 1) in resp.json()["detail"][0]["msg"]


def test_the_largest_int64_limit_is_accepted(http):
    assert http.get("/v1/agents/", params={"limit": str(2**63 - 1)}).status_code == 200


def test_a_null_block_limit_is_422_naming_it(http):
    block = http.post("/v1/blocks/", json={"label": f"l{uuid.uuid4().hex[:6]}", "value": "v"}).json()
    resp = http.patch(f"/v1/blocks/{block['id']}", json={"limit": None})

    assert resp.status_code == 422, resp.text
    assert resp.json()["detail"][0]["loc"][-1] == "limit"
    assert http.get(f"/v1/blocks/{block['id']}").json()["limit"] == block["limit"]


def test_unknown_sources_on_modify_are_404_as_on_create(http, make_agent):
    agent = make_agent()
    nowhere = "source-00000000-0000-4000-8000-000000000000"
    resp = http.patch(f"/v1/agents/{agent.id}", json={"source_ids": [nowhere]})

    assert resp.status_code == 404, resp.text
    assert nowhere in resp.json()["detail"]


def test_malformed_json_says_where(http):
    resp = http.post("/v1/agents/", content=b'{\n  "name": ,\n}', headers={"content-type": "application/json"})

    assert resp.status_code == 422
    assert "line 2 column 11" in resp.json()["detail"][0]["msg"], resp.text


def test_invalid_utf8_says_at_which_byte(http):
    resp = http.post("/v1/agents/", content=b'{"name": "ab\xff"}', headers={"content-type": "application/json"})

    assert resp.status_code == 400
    assert "invalid UTF-8 at byte 12" in resp.json()["detail"], resp.text


def test_deeply_nested_json_says_so(http):
    body = b'{"metadata": ' + b"[" * 100_000 + b"]" * 100_000 + b"}"
    resp = http.post("/v1/agents/", content=body, headers={"content-type": "application/json"})

    assert resp.status_code == 400
    assert "nesting too deep" in resp.json()["detail"], resp.text


def _keep_alive(base_url: str) -> http.client.HTTPConnection:
    host, port = base_url.removeprefix("http://").split(":")
    return http.client.HTTPConnection(host, int(port), timeout=30)


def _get(conn: http.client.HTTPConnection, path: str) -> tuple[int, bytes]:
    conn.request("GET", path)
    resp = conn.getresponse()
    return resp.status, resp.read()


def test_a_keep_alive_client_survives_a_4xx(server):
    conn = _keep_alive(server.base_url)
    assert _get(conn, "/v1/agents/?limit=" + BEYOND_INT64)[0] == 422
    sock = conn.sock
    assert _get(conn, "/v1/blocks/block-00000000-0000-0000-0000-000000000000")[0] == 404
    assert _get(conn, "/v1/health/")[0] == 200
    assert conn.sock is sock  # the same connection all along
    conn.close()


def test_a_keep_alive_client_survives_a_5xx(make_server, tmp_path):
    """A real 500: a row damaged under the running server (a JSON column made unreadable with sqlite3),
    which the server cannot decode. The client gets the 500 and keeps using its connection."""
    srv = make_server(home=tmp_path / "damaged", pg_uri="")  # SQLite: the file is there to damage
    conn = _keep_alive(srv.base_url)
    conn.request("POST", "/v1/identities/", body=b'{"identifier_key": "k", "name": "n", "identity_type": "user"}',
                 headers={"content-type": "application/json"})
    created = conn.getresponse()
    assert created.status == 200, created.read()
    identity = json.loads(created.read())["id"]
    with sqlite3.connect(srv.home / "agenthost.db") as db:
        db.execute("UPDATE identities SET properties = '{not json' WHERE id = ?", (identity,))
    sock = conn.sock

    status, body = _get(conn, f"/v1/identities/{identity}")
    assert status == 500, body
    assert b"Internal server error (ref " in body and b"Traceback" not in body
    assert _get(conn, "/v1/health/")[0] == 200
    assert conn.sock is sock
    assert "unhandled error on GET /v1/identities/" in srv.log_path.read_text(errors="replace")
    conn.close()
