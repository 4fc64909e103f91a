"""Messaging a group through the real letta-client SDK, the members answering from their scripted models."""

from __future__ import annotations

import json

from letta_client import DynamicManager, MessageCreate, RoundRobinManager, SupervisorManager

from tests.support.scripted_llm import ScriptedLLM


def _said(response) -> list[str]:
    return [m.content for m in response.messages if m.message_type == "assistant_message"]


def _last_prompt(scripted_llm: ScriptedLLM, model: str) -> str:
    return json.dumps(scripted_llm.requests_for(model)[-1]["messages"])


def test_round_robin_members_speak_in_turn_and_see_each_other(client, make_agent, scripted_llm):
    a, b = make_agent("alice"), make_agent("bob")
    a.script.push_tool_call("send_message", {"message": "alice one"})
    b.script.push_tool_call("send_message", {"message": "bob one"})
    a.script.push_tool_call("send_message", {"message": "alice two"})
    group = client.groups.create(agent_ids=[a.id, b.id], description="chat",
                                 manager_config=RoundRobinManager(max_turns=3))

    reply = client.groups.messages.create(group_id=group.id,
                                          messages=[MessageCreate(role="user", content="hello team")])

    assert _said(reply) == ["alice one", "bob one", "alice two"]
    assert "hello team" in _last_prompt(scripted_llm, b.model)
    assert f"{a.name}: alice one" in _last_prompt(scripted_llm, b.model), "bob sees alice's reply, named"
    assert f"{b.name}: bob one" in _last_prompt(scripted_llm, a.model)
    listed = client.groups.messages.list(group_id=group.id, limit=50)
    assert [m.content for m in listed if m.message_type == "assistant_message"] == ["alice one", "bob one",
                                                                                    "alice two"]
    client.groups.messages.reset(group_id=group.id)
    assert client.groups.messages.list(group_id=group.id, limit=50) == []


def test_round_robin_max_turns_defaults_to_one_turn_each(client, make_agent):
    agents = [make_agent(f"m{n}") for n in range(3)]
    for n, agent in enumerate(agents):
        agent.script.push_tool_call("send_message", {"message": f"m{n} here"})
    group = client.groups.create(agent_ids=[x.id for x in agents], description="trio")
    reply = client.groups.messages.create(group_id=group.id, messages=[MessageCreate(role="user", content="hi")])
    assert _said(reply) == ["m0 here", "m1 here", "m2 here"]
    assert reply.usage.step_count == 3


def test_dynamic_manager_picks_the_speakers_and_ends_on_the_token(client, make_agent, scripted_llm):
    boss, a, b = make_agent("boss"), make_agent("ann"), make_agent("ben")
    boss.script.push_tool_call("send_message", {"message": f"{b.name}"})
    b.script.push_tool_call("send_message", {"message": "ben speaking"})
    boss.script.push_tool_call("send_message", {"message": f"Let {a.name} answer."})
    a.script.push_tool_call("send_message", {"message": "ann speaking"})
    boss.script.push_tool_call("send_message", {"message": "DONE!"})
    group = client.groups.create(agent_ids=[a.id, b.id], description="dyn",
                                 manager_config=DynamicManager(manager_agent_id=boss.id, max_turns=5))

    reply = client.groups.messages.create(group_id=group.id, messages=[MessageCreate(role="user", content="go")])

    assert _said(reply) == ["ben speaking", "ann speaking"]
    asks = [r["messages"][-1]["content"] for r in scripted_llm.requests_for(boss.model)]
    assert asks[0].startswith(f"Eligible speakers: {a.name}, {b.name}.")
    assert asks[1].startswith(f"Eligible speakers: {a.name}."), "the last speaker is left out"
    assert "ben speaking" in asks[1]
    assert len(asks) == 3


def test_dynamic_round_ends_at_max_turns(client, make_agent):
    boss, a, b = make_agent("boss"), make_agent("ann"), make_agent("ben")
    boss.script.push_tool_call("send_message", {"message": a.name})
    a.script.push_tool_call("send_message", {"message": "ann once"})
    group = client.groups.create(agent_ids=[a.id, b.id], description="dyn",
                                 manager_config=DynamicManager(manager_agent_id=boss.id, max_turns=1))
    reply = client.groups.messages.create(group_id=group.id, messages=[MessageCreate(role="user", content="go")])
    assert _said(reply) == ["ann once"]


def test_supervisor_messages_every_member_and_collects_the_replies(client, make_agent):
    boss, w1, w2 = make_agent("boss"), make_agent("w1"), make_agent("w2")
    w1.script.push_tool_call("send_message", {"message": "w1 done"})
    w2.script.push_tool_call("send_message", {"message": "w2 done"})
    boss.script.push_tool_call("send_message_to_all_agents_in_group", {"message": "do it", "request_heartbeat": True})
    boss.script.push_tool_call("send_message", {"message": "all done"})
    group = client.groups.create(agent_ids=[w1.id, w2.id], description="sup",
                                 manager_config=SupervisorManager(manager_agent_id=boss.id))

    reply = client.groups.messages.create(group_id=group.id, messages=[MessageCreate(role="user", content="job")])

    [ret] = [m for m in reply.messages if m.message_type == "tool_return_message"]
    header, _, body = ret.tool_return.partition("\n")
    assert header == "2 of 2 matching agent(s) replied."
    assert {r["agent_id"]: r["reply"] for r in json.loads(body)} == {w1.id: "w1 done", w2.id: "w2 done"}
    assert _said(reply) == ["all done"]


def test_group_stream_sends_the_turns_messages(client, make_agent):
    a = make_agent("solo")
    a.script.push_tool_call("send_message", {"message": "streamed"})
    group = client.groups.create(agent_ids=[a.id], description="one")
    chunks = list(client.groups.messages.create_stream(group_id=group.id,
                                                       messages=[MessageCreate(role="user", content="hi")]))
    kinds = [getattr(c, "message_type", None) for c in chunks]
    assert "assistant_message" in kinds and kinds[-2:] == ["stop_reason", "usage_statistics"]
