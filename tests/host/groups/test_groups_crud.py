"""/v1/groups CRUD through the real letta-client SDK; bad input is a 4xx naming the field."""

from __future__ import annotations

import pytest
from letta_client import DynamicManager, RoundRobinManager, SupervisorManager
from letta_client.core.api_error import ApiError


def _error(call) -> ApiError:
    with pytest.raises(ApiError) as info:
        call()
    return info.value


def test_create_retrieve_list_modify_delete(client, make_agent):
    a, b = make_agent("a"), make_agent("b")
    block = client.blocks.create(label="team", value="shared notes")
    group = client.groups.create(agent_ids=[a.id, b.id], description="pair",
                                 manager_config=RoundRobinManager(max_turns=3), shared_block_ids=[block.id])
    assert group.manager_type == "round_robin" and group.agent_ids == [a.id, b.id] and group.max_turns == 3
    assert group.shared_block_ids == [block.id]
    assert block.id in {x.id for x in client.agents.blocks.list(agent_id=a.id)}, "shared blocks are attached"
    assert client.groups.retrieve(group_id=group.id).description == "pair"
    assert group.id in {g.id for g in client.groups.list()}
    assert group.id in {g.id for g in client.groups.list(manager_type="round_robin")}
    assert group.id not in {g.id for g in client.groups.list(manager_type="dynamic")}
    assert client.groups.count() >= 1
    assert [g.id for g in client.agents.groups.list(agent_id=a.id)] == [group.id]
    changed = client.groups.modify(group_id=group.id, description="trio", agent_ids=[b.id, a.id])
    assert changed.description == "trio" and changed.agent_ids == [b.id, a.id] and changed.max_turns == 3
    client.groups.delete(group_id=group.id)
    assert _error(lambda: client.groups.retrieve(group_id=group.id)).status_code == 404


def test_bad_input_is_a_4xx_naming_the_field_and_nothing_is_created(client, http, make_agent):
    a, b = make_agent("a"), make_agent("b")
    before = client.groups.count()
    cases = [
        ({"agent_ids": [a.id, "agent-nope"], "description": "x"}, 404, "agent_ids"),
        ({"agent_ids": [a.id, a.id], "description": "x"}, 422, "agent_ids"),
        ({"agent_ids": [], "description": "x"}, 422, "agent_ids"),
        ({"agent_ids": [a.id, b.id], "description": "x",
          "manager_config": {"manager_type": "supervisor", "manager_agent_id": a.id}}, 422, "manager_agent_id"),
        ({"agent_ids": [a.id], "description": "x",
          "manager_config": {"manager_type": "dynamic", "manager_agent_id": "agent-nope"}}, 404, "manager_agent_id"),
        ({"agent_ids": [a.id], "description": "x",
          "manager_config": {"manager_type": "round_robin", "max_turns": 0}}, 422, "max_turns"),
        ({"agent_ids": [a.id], "description": "x",
          "manager_config": {"manager_type": "sleeptime", "manager_agent_id": b.id,
                             "sleeptime_agent_frequency": 0}}, 422, "sleeptime_agent_frequency"),
        ({"agent_ids": [a.id], "description": "x",
          "manager_config": {"manager_type": "voice_sleeptime", "manager_agent_id": b.id,
                             "max_message_buffer_length": 10, "min_message_buffer_length": 20}},
         422, "min_message_buffer_length"),
        ({"agent_ids": [a.id], "description": "x", "shared_block_ids": ["block-nope"]}, 404, "shared_block_ids"),
        ({"agent_ids": [a.id], "description": "x", "manager_config": {"manager_type": "swarm"}}, 422,
         "manager_type"),
    ]
    for body, status, field in cases:
        resp = http.post("/v1/groups/", json=body)
        assert resp.status_code == status, (body, resp.text)
        assert field in resp.text, (body, resp.text)
    assert client.groups.count() == before
    assert client.agents.blocks.list(agent_id=a.id)[0].label == "persona"


def test_modify_cannot_change_manager_type_or_break_the_rules(client, http, make_agent):
    a, b, boss = make_agent("a"), make_agent("b"), make_agent("boss")
    group = client.groups.create(agent_ids=[a.id, b.id], description="d",
                                 manager_config=DynamicManager(manager_agent_id=boss.id))
    assert group.termination_token == "DONE!"
    resp = http.patch(f"/v1/groups/{group.id}", json={"manager_config": {"manager_type": "round_robin"}})
    assert resp.status_code == 422 and "manager_type" in resp.text
    resp = http.patch(f"/v1/groups/{group.id}", json={"agent_ids": [a.id, boss.id]})
    assert resp.status_code == 422 and "manager_agent_id" in resp.text
    assert client.groups.retrieve(group_id=group.id).agent_ids == [a.id, b.id]
    sup = client.groups.create(agent_ids=[a.id], description="s",
                               manager_config=SupervisorManager(manager_agent_id=boss.id))
    assert "send_message_to_all_agents_in_group" in {t.name for t in client.agents.tools.list(agent_id=boss.id)}
    assert http.get("/v1/groups/group-nope").status_code == 404
    assert http.get("/v1/agents/agent-nope/groups").status_code == 404
    client.groups.delete(group_id=sup.id)


def test_deleting_a_member_removes_it_from_the_group(client, http, make_agent):
    a, b = make_agent("a"), make_agent("b")
    group = client.groups.create(agent_ids=[a.id, b.id], description="pair")
    http.delete(f"/v1/agents/{b.id}")
    assert client.groups.retrieve(group_id=group.id).agent_ids == [a.id]
