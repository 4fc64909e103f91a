"""Agent views are cached by version key (``host.services.view_cache``): an agent edited through any kind of
route, by a turn's memory tools, or by another server process on the same database is never served stale.

Each check reads the agent first (so a view is cached), edits it, and reads it again, as GET one and as an
item of GET the list."""

from __future__ import annotations

import uuid

import httpx
import pytest

from tests.support.scripted_llm import ScriptedLLM

TOOL = ("def view_probe_{tag}(x: int) -> int:\n    \"\"\"Probe.\n\n    Args:\n        x (int): a number\n    \"\"\"\n"
        "    return x\n")


def _views(http: httpx.Client, agent_id: str) -> list[dict]:
    one = http.get(f"/v1/agents/{agent_id}")
    assert one.status_code == 200, one.text
    listed = [a for a in http.get("/v1/agents/", params={"limit": 1000}).json() if a["id"] == agent_id]
    assert len(listed) == 1
    return [one.json(), listed[0]]


def _ok(resp: httpx.Response) -> dict:
    assert resp.status_code == 200, resp.text
    return resp.json() if resp.content and resp.content != b"null" else {}


def _blocks(view: dict) -> dict[str, str]:
    return {b["label"]: b["value"] for b in view["memory"]["blocks"]}


def _create(http: httpx.Client, model: str, embedding: str) -> dict:
    return _ok(http.post("/v1/agents/", json={
        "name": f"cache-{uuid.uuid4().hex[:8]}", "model": model, "embedding": embedding,
        "memory_blocks": [{"label": "human", "value": "Name: Ada"}, {"label": "persona", "value": "Careful."}]}))


def test_every_kind_of_edit_shows_on_the_next_read(http: httpx.Client, scripted_llm: ScriptedLLM,
                                                   embedding_handle: str) -> None:
    model = f"cache-{uuid.uuid4().hex[:8]}"
    agent = _create(http, f"openai-proxy/{model}", embedding_handle)
    agent_id, tag = agent["id"], uuid.uuid4().hex[:6]
    _views(http, agent_id)

    # the agent's own row
    _ok(http.patch(f"/v1/agents/{agent_id}", json={"description": "patched", "tags": ["x", "y"],
                                                    "tool_exec_environment_variables": {"TOKEN": "t"}}))
    for view in _views(http, agent_id):
        assert view["description"] == "patched" and view["tags"] == ["x", "y"]
        assert [v["key"] for v in view["tool_exec_environment_variables"]] == ["TOKEN"]

    # a block edited by its id, and by the agent's label
    human = next(b for b in agent["memory"]["blocks"] if b["label"] == "human")
    _ok(http.patch(f"/v1/blocks/{human['id']}", json={"value": "Name: Grace"}))
    for view in _views(http, agent_id):
        assert _blocks(view)["human"] == "Name: Grace"
    _ok(http.patch(f"/v1/agents/{agent_id}/core-memory/blocks/persona", json={"value": "Bold."}))
    for view in _views(http, agent_id):
        assert _blocks(view)["persona"] == "Bold."

    # a block attached and detached
    block = _ok(http.post("/v1/blocks/", json={"label": f"notes_{tag}", "value": "first note"}))
    _ok(http.patch(f"/v1/agents/{agent_id}/core-memory/blocks/attach/{block['id']}"))
    for view in _views(http, agent_id):
        assert _blocks(view)[f"notes_{tag}"] == "first note"
    _ok(http.patch(f"/v1/agents/{agent_id}/core-memory/blocks/detach/{block['id']}"))
    for view in _views(http, agent_id):
        assert f"notes_{tag}" not in _blocks(view)

    # a tool attached, edited, given a rule, detached
    tool = _ok(http.post("/v1/tools/", json={"source_code": TOOL.format(tag=tag)}))
    _ok(http.patch(f"/v1/agents/{agent_id}/tools/attach/{tool['id']}"))
    for view in _views(http, agent_id):
        assert tool["id"] in [t["id"] for t in view["tools"]]
    _ok(http.patch(f"/v1/tools/{tool['id']}", json={"description": "edited tool"}))
    for view in _views(http, agent_id):
        assert next(t for t in view["tools"] if t["id"] == tool["id"])["description"] == "edited tool"
    _ok(http.patch(f"/v1/agents/{agent_id}/tools/approval/{tool['name']}", json={"requires_approval": True}))
    for view in _views(http, agent_id):
        assert {"type": "requires_approval", "tool_name": tool["name"]}.items() <= next(
            r for r in view["tool_rules"] if r.get("tool_name") == tool["name"]).items()
    _ok(http.patch(f"/v1/agents/{agent_id}/tools/detach/{tool['id']}"))
    for view in _views(http, agent_id):
        assert tool["id"] not in [t["id"] for t in view["tools"]]

    # a source attached, renamed, detached
    source = _ok(http.post("/v1/sources/", json={"name": f"src_{tag}", "embedding": embedding_handle}))
    _ok(http.patch(f"/v1/agents/{agent_id}/sources/attach/{source['id']}"))
    for view in _views(http, agent_id):
        assert [s["name"] for s in view["sources"]] == [f"src_{tag}"]
    _ok(http.patch(f"/v1/sources/{source['id']}", json={"name": f"renamed_{tag}"}))
    for view in _views(http, agent_id):
        assert [s["name"] for s in view["sources"]] == [f"renamed_{tag}"]
    _ok(http.patch(f"/v1/agents/{agent_id}/sources/detach/{source['id']}"))
    for view in _views(http, agent_id):
        assert view["sources"] == []

    # identities: created with the agent, attached and detached by the 1.x routes, deleted
    identity = _ok(http.post("/v1/identities/", json={"identifier_key": f"key_{tag}", "name": "Ada",
                                                      "identity_type": "user", "agent_ids": [agent_id]}))
    for view in _views(http, agent_id):
        assert view["identity_ids"] == [identity["id"]]
    _ok(http.patch(f"/v1/agents/{agent_id}/identities/detach/{identity['id']}"))
    for view in _views(http, agent_id):
        assert view["identity_ids"] == []
    _ok(http.patch(f"/v1/agents/{agent_id}/identities/attach/{identity['id']}"))
    for view in _views(http, agent_id):
        assert view["identity_ids"] == [identity["id"]]
    _ok(http.delete(f"/v1/identities/{identity['id']}"))
    for view in _views(http, agent_id):
        assert view["identity_ids"] == []

    # a sleep-time group made and removed (GET one answers the agent's group; the list does not)
    _ok(http.patch(f"/v1/agents/{agent_id}", json={"enable_sleeptime": True}))
    group = http.get(f"/v1/agents/{agent_id}").json()["multi_agent_group"]
    assert group is not None and group["manager_agent_id"] == agent_id
    _ok(http.patch(f"/v1/agents/{agent_id}", json={"enable_sleeptime": False}))
    assert http.get(f"/v1/agents/{agent_id}").json()["multi_agent_group"] is None

    # a turn whose memory tool rewrites a block (and appends messages)
    before = len(_views(http, agent_id)[0]["message_ids"])
    queue = scripted_llm.for_model(model)
    queue.push_tool_call("core_memory_replace", {"label": "human", "old_content": "Grace",
                                                 "new_content": "Hopper", "request_heartbeat": True})
    queue.push_tool_call("send_message", {"message": "noted"})
    _ok(http.post(f"/v1/agents/{agent_id}/messages", json={"messages": [{"role": "user", "content": "I am Hopper"}]}))
    for view in _views(http, agent_id):
        assert _blocks(view)["human"] == "Name: Hopper" and len(view["message_ids"]) > before

    # the block deleted under the agent, then the agent itself
    _ok(http.patch(f"/v1/agents/{agent_id}/core-memory/blocks/attach/{block['id']}"))
    _views(http, agent_id)
    assert http.delete(f"/v1/blocks/{block['id']}").status_code == 200
    for view in _views(http, agent_id):
        assert f"notes_{tag}" not in _blocks(view)
    _ok(http.delete(f"/v1/agents/{agent_id}"))
    assert http.get(f"/v1/agents/{agent_id}").status_code == 404


def test_edits_through_another_server_on_the_same_postgres_are_never_served_stale(
        make_server, scripted_llm: ScriptedLLM, embedding_handle: str) -> None:
    from tests.conftest import PG_ADMIN_URI
    from tests.support.server import fresh_pg_database

    if not PG_ADMIN_URI:
        pytest.skip("needs AGENTHOST_TEST_PG_URI (two servers share a database on Postgres only)")
    uri = fresh_pg_database(PG_ADMIN_URI)
    writer, reader = make_server(pg_uri=uri), make_server(pg_uri=uri)
    model, tag = f"pair-{uuid.uuid4().hex[:8]}", uuid.uuid4().hex[:6]
    with httpx.Client(base_url=writer.base_url, timeout=60) as one, \
            httpx.Client(base_url=reader.base_url, timeout=60) as two:
        agent = _create(one, f"openai-proxy/{model}", embedding_handle)
        agent_id = agent["id"]
        _views(two, agent_id)  # the reader caches its view

        tool = _ok(one.post("/v1/tools/", json={"source_code": TOOL.format(tag=tag)}))
        _ok(one.patch(f"/v1/agents/{agent_id}/tools/attach/{tool['id']}"))
        for view in _views(two, agent_id):
            assert tool["id"] in [t["id"] for t in view["tools"]]

        _ok(one.patch(f"/v1/tools/{tool['id']}", json={"description": "edited elsewhere"}))
        for view in _views(two, agent_id):
            assert next(t for t in view["tools"] if t["id"] == tool["id"])["description"] == "edited elsewhere"

        identity = _ok(one.post("/v1/identities/", json={"identifier_key": f"key_{tag}", "name": "Ada",
                                                         "identity_type": "user", "agent_ids": [agent_id]}))
        for view in _views(two, agent_id):
            assert view["identity_ids"] == [identity["id"]]

        scripted_llm.for_model(model).push_tool_call(
            "core_memory_append", {"label": "human", "content": "Likes tea.", "request_heartbeat": True})
        scripted_llm.for_model(model).push_tool_call("send_message", {"message": "noted"})
        _ok(one.post(f"/v1/agents/{agent_id}/messages", json={"messages": [{"role": "user", "content": "tea"}]}))
        for view in _views(two, agent_id):
            assert "Likes tea." in _blocks(view)["human"]

        _ok(one.patch(f"/v1/agents/{agent_id}", json={"tags": ["moved"]}))
        for view in _views(two, agent_id):
            assert view["tags"] == ["moved"]
