"""Memory blocks through the SDK: /v1/blocks CRUD and count, sharing one block between agents,
attach/detach, the core-memory view, defaults, and the character limit."""

from __future__ import annotations

import pytest
from letta_client.core.api_error import ApiError

from host.schemas.blocks import DEFAULT_BLOCK_LIMIT


def test_block_crud_and_count(client, unique):
    start = client.blocks.count()
    block = client.blocks.create(label=unique("notes"), value="first", description="scratch notes")
    assert client.blocks.count() == start + 1
    assert (block.value, block.limit, block.read_only) == ("first", DEFAULT_BLOCK_LIMIT, False)

    assert client.blocks.retrieve(block_id=block.id).value == "first"
    assert [b.id for b in client.blocks.list(label=block.label)] == [block.id]
    modified = client.blocks.modify(block_id=block.id, value="second", limit=100)
    assert (modified.value, modified.limit) == ("second", 100)
    assert client.blocks.retrieve(block_id=block.id).value == "second"

    client.blocks.delete(block_id=block.id)
    assert client.blocks.count() == start
    with pytest.raises(ApiError) as info:
        client.blocks.retrieve(block_id=block.id)
    assert info.value.status_code == 404


def test_human_and_persona_get_default_descriptions_and_read_only_is_kept(client, make_agent):
    agent = make_agent(memory_blocks=[{"label": "human", "value": "h"},
                                      {"label": "persona", "value": "p", "read_only": True},
                                      {"label": "custom", "value": "c"}])
    blocks = {b.label: b for b in agent.memory.blocks}

    assert "human" in blocks["human"].description.lower()
    assert "persona" in blocks["persona"].description.lower()
    assert blocks["custom"].description is None
    assert blocks["persona"].read_only is True
    assert all(b.limit == DEFAULT_BLOCK_LIMIT for b in blocks.values())


def test_a_shared_block_modified_through_one_agent_is_seen_by_the_other(client, make_agent, unique):
    shared = client.blocks.create(label="team", value="Sprint goal: ship", description="shared team facts")
    first = make_agent(name=unique("first"), block_ids=[shared.id])
    second = make_agent(name=unique("second"), block_ids=[shared.id])
    try:
        assert {a.id for a in client.blocks.agents.list(block_id=shared.id)} == {first.id, second.id}

        client.agents.blocks.modify(agent_id=first.id, block_label="team", value="Sprint goal: ship v2")

        seen = {b.label: b.value for b in client.agents.core_memory.retrieve(agent_id=second.id).blocks}
        assert seen["team"] == "Sprint goal: ship v2"
        assert client.blocks.retrieve(block_id=shared.id).value == "Sprint goal: ship v2"
        assert client.agents.blocks.retrieve(agent_id=second.id, block_label="team").id == shared.id
    finally:
        client.agents.delete(agent_id=first.id)
        client.agents.delete(agent_id=second.id)
        client.blocks.delete(block_id=shared.id)


def test_attach_and_detach_a_block(client, make_agent):
    agent = make_agent()
    block = client.blocks.create(label="project", value="Codename: heron")
    try:
        attached = client.agents.blocks.attach(agent_id=agent.id, block_id=block.id)
        assert "project" in {b.label for b in attached.memory.blocks}
        assert "project" in {b.label for b in client.agents.blocks.list(agent_id=agent.id)}
        assert [a.id for a in client.blocks.agents.list(block_id=block.id)] == [agent.id]

        detached = client.agents.blocks.detach(agent_id=agent.id, block_id=block.id)
        assert "project" not in {b.label for b in detached.memory.blocks}
        assert client.blocks.agents.list(block_id=block.id) == []
        assert client.blocks.retrieve(block_id=block.id).value == "Codename: heron", "detach keeps the block"
    finally:
        client.blocks.delete(block_id=block.id)


def test_attaching_a_second_block_with_a_label_the_agent_has_is_422_and_attaches_nothing(client, http, make_agent):
    agent = make_agent()
    other = make_agent()  # another agent's "human" block is no conflict for the first
    block = client.blocks.create(label="human", value="A second human block")
    try:
        resp = http.patch(f"/v1/agents/{agent.id}/core-memory/blocks/attach/{block.id}")
        assert resp.status_code == 422 and "already has a block labelled 'human'" in resp.text, resp.text
        assert [b.label for b in client.agents.blocks.list(agent_id=agent.id)].count("human") == 1
        client.agents.blocks.detach(agent_id=other.id,
                                    block_id=next(b.id for b in other.memory.blocks if b.label == "human"))
        attached = http.patch(f"/v1/agents/{other.id}/core-memory/blocks/attach/{block.id}")
        assert attached.status_code == 200, attached.text
    finally:
        client.blocks.delete(block_id=block.id)


def test_core_memory_view_lists_blocks_in_order_and_compiles_into_the_system_message(client, make_agent):
    agent = make_agent(memory_blocks=[{"label": "human", "value": "Name: Grace"},
                                      {"label": "persona", "value": "Patient tutor."}])

    memory = client.agents.core_memory.retrieve(agent_id=agent.id)
    assert [b.label for b in memory.blocks] == ["human", "persona"]
    system = client.agents.messages.list(agent_id=agent.id, limit=50)[0]
    assert system.message_type == "system_message"
    assert "Name: Grace" in system.content

    client.agents.blocks.modify(agent_id=agent.id, block_label="human", value="Name: Grace Hopper")
    system = client.agents.messages.list(agent_id=agent.id, limit=50)[0]
    assert "Name: Grace Hopper" in system.content


def test_over_limit_value_is_422_naming_the_limit_on_create(http):
    resp = http.post("/v1/blocks/", json={"label": "human", "value": "x" * (DEFAULT_BLOCK_LIMIT + 1)})

    assert resp.status_code == 422
    assert str(DEFAULT_BLOCK_LIMIT) in resp.text


def test_over_limit_value_is_422_naming_the_limit_on_modify_and_the_block_is_unchanged(client, http, make_agent):
    block = client.blocks.create(label="small", value="ok", limit=10)
    agent = make_agent()
    try:
        resp = http.patch(f"/v1/blocks/{block.id}", json={"value": "y" * 11})
        assert resp.status_code == 422
        assert "10" in resp.json()["detail"]

        resp = http.patch(f"/v1/agents/{agent.id}/core-memory/blocks/human", json={"value": "z" * 5001})
        assert resp.status_code == 422
        assert "5000" in resp.json()["detail"]
        assert client.blocks.retrieve(block_id=block.id).value == "ok"
        assert client.agents.blocks.retrieve(agent_id=agent.id, block_label="human").value == "Name: Ada"
    finally:
        client.blocks.delete(block_id=block.id)


def test_unknown_block_label_on_an_agent_is_404_naming_it(http, make_agent):
    agent = make_agent()

    resp = http.get(f"/v1/agents/{agent.id}/core-memory/blocks/nosuchlabel")
    assert resp.status_code == 404
    assert "nosuchlabel" in resp.json()["detail"]


def test_deleting_an_attached_block_removes_it_from_the_agent_and_its_system_message(client, make_agent):
    block = client.blocks.create(label="ephemeral", value="SELF-DESTRUCTING NOTE")
    agent = make_agent(block_ids=[block.id])
    assert "SELF-DESTRUCTING NOTE" in client.agents.messages.list(agent_id=agent.id, limit=50)[0].content

    client.blocks.delete(block_id=block.id)
    assert "ephemeral" not in {b.label for b in client.agents.core_memory.retrieve(agent_id=agent.id).blocks}
    assert "SELF-DESTRUCTING NOTE" not in client.agents.messages.list(agent_id=agent.id, limit=50)[0].content
