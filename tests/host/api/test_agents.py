"""Agents through the real letta-client SDK: create, list with filters and cursors, count, retrieve,
modify, delete, base tools and tool environment variables."""

from __future__ import annotations

import pytest
from letta_client import AsyncLetta
from letta_client.core.api_error import ApiError

from host.services.agents import BASE_TOOLS


def test_create_with_memory_blocks_and_handles_returns_the_full_agent(client, make_agent, llm_handle,
                                                                     embedding_handle, unique):
    agent = make_agent(name=unique("doc-agent"))

    assert agent.id.startswith("agent-")
    assert agent.llm_config.handle == llm_handle
    assert agent.embedding_config.handle == embedding_handle
    blocks = {b.label: b for b in agent.memory.blocks}
    assert blocks["human"].value == "Name: Ada"
    assert blocks["persona"].value == "A careful assistant."
    assert agent.system, "a default system prompt is filled in"
    assert client.agents.retrieve(agent_id=agent.id).name == agent.name


def test_include_base_tools_default_attaches_the_base_tools_with_rules(make_agent):
    agent = make_agent()

    assert [t.name for t in agent.tools] == BASE_TOOLS
    rules = {(r.tool_name, r.type) for r in agent.tool_rules}
    assert ("send_message", "exit_loop") in rules


def test_include_base_tools_false_gives_no_tools(make_agent):
    agent = make_agent(include_base_tools=False)

    assert agent.tools == []


def test_tool_exec_environment_variables_round_trip_through_create_modify_and_retrieve(client, make_agent):
    agent = make_agent(tool_exec_environment_variables={"API_KEY": "k1", "REGION": "eu"})
    env = {v.key: v.value for v in agent.tool_exec_environment_variables}
    assert env == {"API_KEY": "****", "REGION": "****"}, "values are write-only (tests/host/security)"

    client.agents.modify(agent_id=agent.id, tool_exec_environment_variables={"API_KEY": "k2"})
    env = {v.key: v.value for v in client.agents.retrieve(agent_id=agent.id).tool_exec_environment_variables}
    assert env == {"API_KEY": "****"}


def test_list_filters_by_name_tags_and_query_text(client, make_agent, unique):
    tag_a, tag_b = unique("tag-a"), unique("tag-b")
    both = make_agent(name=unique("both"), tags=[tag_a, tag_b])
    only_a = make_agent(name=unique("only-a"), tags=[tag_a])

    assert [a.id for a in client.agents.list(name=both.name)] == [both.id]
    assert {a.id for a in client.agents.list(tags=[tag_a])} == {both.id, only_a.id}
    assert {a.id for a in client.agents.list(tags=[tag_a, tag_b])} == {both.id, only_a.id}
    assert [a.id for a in client.agents.list(tags=[tag_a, tag_b], match_all_tags=True)] == [both.id]
    assert [a.id for a in client.agents.list(query_text=only_a.name[3:])] == [only_a.id]
    assert client.agents.list(name=unique("nobody")) == []


def test_list_filters_by_identity_id_and_identifier_keys(client, make_agent, unique):
    key = unique("user-key")
    identity = client.identities.create(identifier_key=key, name="Ada", identity_type="user")
    mine = make_agent(identity_ids=[identity.id])
    make_agent()
    try:
        assert [a.id for a in client.agents.list(identity_id=identity.id)] == [mine.id]
        assert [a.id for a in client.agents.list(identifier_keys=[key])] == [mine.id]
        assert mine.identity_ids == [identity.id]
    finally:
        client.identities.delete(identity_id=identity.id)


def test_list_cursors_page_forwards_and_backwards(client, make_agent, unique):
    tag = unique("page")
    ids = [make_agent(name=f"{tag}-{i}", tags=[tag]).id for i in range(5)]

    ascending = [a.id for a in client.agents.list(tags=[tag], ascending=True, limit=50)]
    assert ascending == ids
    descending = [a.id for a in client.agents.list(tags=[tag], limit=50)]
    assert descending == ids[::-1], "the default order is newest first"

    first = [a.id for a in client.agents.list(tags=[tag], ascending=True, limit=2)]
    second = [a.id for a in client.agents.list(tags=[tag], ascending=True, limit=2, after=first[-1])]
    third = [a.id for a in client.agents.list(tags=[tag], ascending=True, limit=2, after=second[-1])]
    assert first + second + third == ids
    before = [a.id for a in client.agents.list(tags=[tag], ascending=True, before=ids[3], limit=50)]
    assert before == ids[:3]


def test_count_follows_create_and_delete(client, make_agent):
    start = client.agents.count()
    agent = make_agent()
    assert client.agents.count() == start + 1
    client.agents.delete(agent_id=agent.id)
    assert client.agents.count() == start


def test_modify_changes_name_description_system_tags_and_metadata(client, make_agent, unique):
    agent = make_agent(tags=["old"])
    new_name = unique("renamed")

    updated = client.agents.modify(agent_id=agent.id, name=new_name, description="now described",
                                   system="You are terse.", tags=["new", "newer"], metadata={"k": 1})
    assert (updated.name, updated.description, updated.system) == (new_name, "now described", "You are terse.")
    assert sorted(updated.tags) == ["new", "newer"]
    assert updated.metadata == {"k": 1}
    again = client.agents.retrieve(agent_id=agent.id)
    assert (again.name, again.system, sorted(again.tags)) == (new_name, "You are terse.", ["new", "newer"])


def test_delete_then_retrieve_is_404(client, make_agent):
    agent = make_agent()
    client.agents.delete(agent_id=agent.id)

    with pytest.raises(ApiError) as info:
        client.agents.retrieve(agent_id=agent.id)
    assert info.value.status_code == 404
    assert agent.id in str(info.value.body)


def test_tags_listing_includes_agent_tags(client, make_agent, unique):
    tag = unique("listed-tag")
    make_agent(tags=[tag])

    assert tag in client.tags.list(query_text=tag)


@pytest.mark.anyio
async def test_async_sdk_creates_lists_and_deletes(server, llm_handle, embedding_handle, unique):
    aclient = AsyncLetta(base_url=server.base_url, timeout=30)
    name = unique("async-agent")
    agent = await aclient.agents.create(name=name, model=llm_handle, embedding=embedding_handle,
                                        memory_blocks=[{"label": "human", "value": "async"}])
    try:
        assert [a.id for a in await aclient.agents.list(name=name)] == [agent.id]
        assert (await aclient.agents.core_memory.retrieve(agent_id=agent.id)).blocks[0].value == "async"
    finally:
        await aclient.agents.delete(agent_id=agent.id)
    assert await aclient.agents.list(name=name) == []



def test_the_create_answer_is_what_a_read_shows_with_every_kind_of_link(http, llm_handle, embedding_handle, unique):
    """A create builds its answer from the rows it wrote, without reading them back: it must equal GET's
    (blocks given and attached, in order; tools by name and id; tags; identities; sources; variables)."""
    shared = http.post("/v1/blocks/", json={"label": unique("shared"), "value": "kept"}).json()
    identity = http.post("/v1/identities/", json={"identifier_key": unique("id"), "name": "Ada",
                                                  "identity_type": "user"}).json()
    source = http.post("/v1/sources/", json={"name": unique("src"), "embedding": embedding_handle}).json()
    tool = http.post("/v1/tools/", json={"source_code": f"def {unique('t')}(x: int) -> int:\n"
                                                        "    \"\"\"Echo.\n\n    Args:\n        x (int): x\n    \"\"\"\n"
                                                        "    return x\n"}).json()
    created = http.post("/v1/agents/", json={
        "name": unique("linked"), "model": llm_handle, "embedding": embedding_handle,
        "memory_blocks": [{"label": "human", "value": "Name: Ada"}, {"label": "persona", "value": "Calm."}],
        "block_ids": [shared["id"]], "tools": ["conversation_search"], "tool_ids": [tool["id"]],
        "tags": ["b", "a", "b"], "identity_ids": [identity["id"]], "source_ids": [source["id"]],
        "tool_exec_environment_variables": {"TOKEN": "secret"}, "include_base_tools": False,
    })
    assert created.status_code == 200, created.text
    body = created.json()
    try:
        read = http.get(f"/v1/agents/{body['id']}").json()
        assert [b["label"] for b in body["memory"]["blocks"]] == ["human", "persona", shared["label"]]
        assert [t["name"] for t in body["tools"]] == ["conversation_search", tool["name"]]
        assert body["identity_ids"] == [identity["id"]] and [s["id"] for s in body["sources"]] == [source["id"]]
        assert sorted(body["tags"]) == ["a", "b"]
        body["tags"], read["tags"] = sorted(body["tags"]), sorted(read["tags"])
        assert body == read
    finally:
        http.delete(f"/v1/agents/{body['id']}")
