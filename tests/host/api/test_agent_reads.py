"""Reads of agents (GET one, GET the list): every write through any route shows on the next read, and
``include_relationships`` limits the relations answered (Letta's parameter; the web UI asks for it)."""

from __future__ import annotations

import uuid

import httpx

TRIVIAL = ("def add_one(x: int) -> int:\n    \"\"\"Add one.\n\n    Args:\n        x (int): a number\n    \"\"\"\n"
           "    return x + 1\n")


def _create(http: httpx.Client, model: str, embedding: str, **extra) -> dict:
    resp = http.post("/v1/agents/", json={"model": model, "embedding": embedding, **extra,
                                          "memory_blocks": [{"label": "human", "value": "Name: Ada"},
                                                            {"label": "persona", "value": "Careful."}]})
    assert resp.status_code == 200, resp.text
    return resp.json()


def _both(http: httpx.Client, agent_id: str) -> list[dict]:
    """The agent as GET one and as an item of GET the list answer it."""
    one = http.get(f"/v1/agents/{agent_id}").json()
    listed = [a for a in http.get("/v1/agents/", params={"limit": 1000}).json() if a["id"] == agent_id]
    assert len(listed) == 1
    return [one, listed[0]]


def test_every_write_route_shows_on_the_next_read(http, scripted_llm, embedding_handle):
    model = f"reads-{uuid.uuid4().hex[:8]}"
    agent = _create(http, f"openai-proxy/{model}", embedding_handle, name=f"reads-{uuid.uuid4().hex[:6]}",
                    tags=["a"])
    agent_id = agent["id"]
    for view in _both(http, agent_id):  # read once first: a read must not pin an old view
        assert view["description"] is None

    assert http.patch(f"/v1/agents/{agent_id}", json={"description": "patched", "tags": ["b"]}).status_code == 200
    for view in _both(http, agent_id):
        assert view["description"] == "patched" and view["tags"] == ["b"]

    human = next(b for b in agent["memory"]["blocks"] if b["label"] == "human")
    assert http.patch(f"/v1/blocks/{human['id']}", json={"value": "Name: Grace"}).status_code == 200
    for view in _both(http, agent_id):
        assert {b["label"]: b["value"] for b in view["memory"]["blocks"]}["human"] == "Name: Grace"

    resp = http.patch(f"/v1/agents/{agent_id}/core-memory/blocks/persona", json={"value": "Bold."})
    assert resp.status_code == 200, resp.text
    for view in _both(http, agent_id):
        assert {b["label"]: b["value"] for b in view["memory"]["blocks"]}["persona"] == "Bold."

    tool = http.post("/v1/tools/", json={"source_code": TRIVIAL.replace("add_one", f"add_{uuid.uuid4().hex[:6]}")})
    assert tool.status_code == 200, tool.text
    assert http.patch(f"/v1/agents/{agent_id}/tools/attach/{tool.json()['id']}").status_code == 200
    for view in _both(http, agent_id):
        assert tool.json()["id"] in [t["id"] for t in view["tools"]]
    assert http.patch(f"/v1/tools/{tool.json()['id']}", json={"description": "edited tool"}).status_code == 200
    for view in _both(http, agent_id):
        assert next(t for t in view["tools"] if t["id"] == tool.json()["id"])["description"] == "edited tool"

    before = len(_both(http, agent_id)[0]["message_ids"])
    scripted_llm.for_model(model).push_tool_call("send_message", {"message": "hello"})
    turn = http.post(f"/v1/agents/{agent_id}/messages", json={"messages": [{"role": "user", "content": "hi"}]})
    assert turn.status_code == 200, turn.text
    for view in _both(http, agent_id):
        assert len(view["message_ids"]) > before

    assert http.delete(f"/v1/agents/{agent_id}").status_code == 200
    assert http.get(f"/v1/agents/{agent_id}").status_code == 404


def test_include_relationships_answers_only_the_named_relations(http, llm_handle, embedding_handle):
    agent = _create(http, llm_handle, embedding_handle, name=f"rel-{uuid.uuid4().hex[:6]}", tags=["t1"])
    try:
        full = [a for a in http.get("/v1/agents/", params={"limit": 1000}).json() if a["id"] == agent["id"]][0]
        assert full["tools"] and full["memory"]["blocks"] and full["tags"] == ["t1"]

        resp = http.get("/v1/agents/", params={"limit": 1000, "include_relationships": ["memory"]})
        assert resp.status_code == 200, resp.text
        only = [a for a in resp.json() if a["id"] == agent["id"]][0]
        assert [b["value"] for b in only["memory"]["blocks"]] == [b["value"] for b in full["memory"]["blocks"]]
        assert only["tools"] == [] and only["tags"] == [] and only["sources"] == []
        assert only["name"] == full["name"] and only["llm_config"] == full["llm_config"]

        resp = http.get("/v1/agents/", params={"limit": 1000, "include_relationships": ["tools", "tags"]})
        both = [a for a in resp.json() if a["id"] == agent["id"]][0]
        assert [t["id"] for t in both["tools"]] == [t["id"] for t in full["tools"]]
        assert both["tags"] == ["t1"] and both["memory"]["blocks"] == []

        bad = http.get("/v1/agents/", params={"include_relationships": ["memory", "nonsense"]})
        assert bad.status_code == 422 and "nonsense" in bad.json()["detail"], bad.text
    finally:
        http.delete(f"/v1/agents/{agent['id']}")


def test_two_servers_on_one_postgres_each_see_the_others_edits(make_server, embedding_handle):
    """Two processes on one database: an agent edited through one is read fresh through the other (runs on
    Postgres only: on SQLite a data directory belongs to one server)."""
    from tests.conftest import PG_ADMIN_URI
    from tests.support.server import fresh_pg_database

    if not PG_ADMIN_URI:
        import pytest

        pytest.skip("needs AGENTHOST_TEST_PG_URI (two servers share a database on Postgres only)")
    uri = fresh_pg_database(PG_ADMIN_URI)
    first, second = make_server(pg_uri=uri), make_server(pg_uri=uri)
    with httpx.Client(base_url=first.base_url, timeout=60) as one, \
            httpx.Client(base_url=second.base_url, timeout=60) as two:
        agent = _create(one, "openai-proxy/gpt-4o-mini", embedding_handle, name=f"pair-{uuid.uuid4().hex[:6]}")
        assert two.get(f"/v1/agents/{agent['id']}").json()["description"] is None  # read on two first
        assert one.patch(f"/v1/agents/{agent['id']}", json={"description": "from one"}).status_code == 200
        assert two.get(f"/v1/agents/{agent['id']}").json()["description"] == "from one"
        human = next(b for b in agent["memory"]["blocks"] if b["label"] == "human")
        assert two.patch(f"/v1/blocks/{human['id']}", json={"value": "Name: Two"}).status_code == 200
        for view in _both(one, agent["id"]):
            assert {b["label"]: b["value"] for b in view["memory"]["blocks"]}["human"] == "Name: Two"
