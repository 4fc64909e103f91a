"""Small Letta routes: POST /v1/tools/generate-schema, POST /v1/auth, GET /v1/embeddings/total_storage_size.
(letta-client 0.1.213 has none of these calls: raw HTTP.)"""

from __future__ import annotations

import textwrap

import pytest

SOURCE = textwrap.dedent('''
    def forecast(city: str, days: int = 3) -> str:
        """Tell the weather.

        Args:
            city (str): Which city.
            days (int): How many days ahead.
        """
        return city
''').lstrip()


def test_generate_schema_gives_what_tool_creation_would_store(http, unique) -> None:
    resp = http.post("/v1/tools/generate-schema", json={"code": SOURCE})
    assert resp.status_code == 200, resp.text
    assert resp.json() == {
        "name": "forecast", "description": "Tell the weather.",
        "parameters": {"type": "object", "required": ["city"], "properties": {
            "city": {"type": "string", "description": "Which city."},
            "days": {"type": "integer", "description": "How many days ahead."}}}}
    assert http.get("/v1/tools/", params={"name": "forecast"}).json() == [], "nothing is created"


@pytest.mark.parametrize(("code", "named"), [
    ("def bare(x: int) -> int:\n    return x\n", "docstring"),
    ("def broken(:\n", "parse"),
    ('def half(a: int, b: int) -> int:\n    """Add.\n\n    Args:\n        a (int): A.\n    """\n', "'b'"),
])
def test_generate_schema_refuses_what_tool_creation_refuses(http, code, named) -> None:
    schema = http.post("/v1/tools/generate-schema", json={"code": code})
    create = http.post("/v1/tools/", json={"source_code": code})
    assert (schema.status_code, create.status_code) == (422, 422)
    assert named in schema.json()["detail"] and schema.json()["detail"] == create.json()["detail"]
    assert http.post("/v1/tools/generate-schema", json={}).status_code == 422


def test_auth_without_a_password_is_the_default_user(http) -> None:
    resp = http.post("/v1/auth", json={"password": "anything"})
    assert resp.status_code == 200, resp.text
    assert resp.json() == {"uuid": "00000000-0000-4000-8000-000000000000", "is_admin": False}


def test_auth_with_a_password(make_server) -> None:
    import httpx

    srv = make_server({"SECURE": "true", "LETTA_SERVER_PASSWORD": "hunter2-long"})
    with httpx.Client(base_url=srv.base_url, timeout=30) as c:
        ok = c.post("/v1/auth", json={"password": "hunter2-long"})
        assert ok.status_code == 200 and ok.json()["is_admin"] is True, ok.text
        bad = c.post("/v1/auth", json={"password": "nope"})
        assert bad.status_code == 401 and "hunter2" not in bad.text
        assert c.get("/v1/tools/").status_code == 401, "other routes still need the password"


def test_total_storage_size_counts_stored_vectors_in_the_unit_asked(http, client, llm_handle) -> None:
    def size(unit: str | None = None) -> float:
        resp = http.get("/v1/embeddings/total_storage_size", headers={"storage-unit": unit} if unit else {})
        assert resp.status_code == 200, resp.text
        return resp.json()

    before = size("B")
    agent = client.agents.create(model=llm_handle, embedding="openai/text-embedding-3-small")
    try:
        for text in ("one passage", "another passage"):
            client.agents.passages.create(agent_id=agent.id, text=text)
        assert size("B") == before + 2 * 1536 * 4  # text-embedding-3-small: 1536 dimensions of float32
        assert size("kb") == pytest.approx(size("B") / 1024)
        assert size() == pytest.approx(size("B") / 1024**3), "GB by default"
    finally:
        client.agents.delete(agent.id)
    bad = http.get("/v1/embeddings/total_storage_size", headers={"storage-unit": "parsecs"})
    assert bad.status_code == 422 and "parsecs" in bad.json()["detail"] and "GB" in bad.json()["detail"]
