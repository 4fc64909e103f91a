"""enable_sleeptime end to end: the sleep-time agent runs every N-th turn in the background, as an ordinary
run, and its memory edit is in the main agent's next prompt."""

from __future__ import annotations

import httpx
from letta_client import MessageCreate

from tests.support.waiting import wait_until

SLEEPTIME_TOOLS = {"memory_replace", "memory_insert", "memory_rethink", "memory_finish_edits"}


def _runs(http: httpx.Client, agent_id: str) -> list[dict]:
    resp = http.get("/v1/runs", params={"agent_id": agent_id})
    assert resp.status_code == 200, resp.text
    return resp.json()


def _finished(http: httpx.Client, agent_id: str, count: int) -> list[dict] | None:
    runs = _runs(http, agent_id)
    done = [r for r in runs if r["status"] in ("completed", "failed", "cancelled")]
    return done if len(done) >= count and len(done) == len(runs) else None


def sleeptime_setup(client, http, make_agent, scripted_llm, token, label="main"):
    main = make_agent(label, enable_sleeptime=True,
                      memory_blocks=[{"label": "persona", "value": "I am main."},
                                     {"label": "human", "value": "The user."}])
    state = client.agents.retrieve(agent_id=main.id)
    group = state.multi_agent_group
    assert group is not None and group.manager_type == "sleeptime" and group.manager_agent_id == main.id
    assert group.sleeptime_agent_frequency == 5
    [helper_id] = group.agent_ids
    helper = client.agents.retrieve(agent_id=helper_id)
    # its own model queue, so the main agent's scripted replies are not taken by background runs
    sleepy = f"sleepy-{label}-{token}"
    client.agents.modify(agent_id=helper_id, model=f"openai-proxy/{sleepy}")
    return main, state, group, helper, scripted_llm.for_model(sleepy), sleepy


def test_enable_sleeptime_builds_the_helper_and_its_group(client, http, make_agent, scripted_llm, token):
    main, state, group, helper, _, _ = sleeptime_setup(client, http, make_agent, scripted_llm, token)
    assert helper.name == f"{main.name}-sleeptime"
    assert SLEEPTIME_TOOLS <= {t.name for t in helper.tools}
    assert {"send_message", "conversation_search", "archival_memory_search"} <= {t.name for t in state.tools}
    main_blocks = {b.label: b.id for b in state.memory.blocks}
    helper_blocks = {b.label: b.id for b in helper.memory.blocks}
    assert helper_blocks["human"] == main_blocks["human"], "the blocks are shared, not copied"
    assert helper_blocks["persona"] != main_blocks["persona"], "the helper has its own persona"
    extra = client.blocks.create(label="project", value="Apollo")
    client.agents.blocks.attach(agent_id=main.id, block_id=extra.id)
    assert extra.id in {b.id for b in client.agents.blocks.list(agent_id=helper.id)}
    http.delete(f"/v1/agents/{main.id}")
    assert http.get(f"/v1/agents/{helper.id}").status_code == 404
    assert http.get(f"/v1/groups/{group.id}").status_code == 404


def test_every_fifth_turn_runs_the_helper_and_its_edit_reaches_the_next_prompt(client, http, make_agent,
                                                                               scripted_llm, token):
    main, _, group, helper, sleepy, sleepy_model = sleeptime_setup(client, http, make_agent, scripted_llm, token)
    sleepy.push_tool_call("memory_insert", {"label": "human", "new_str": "Likes green tea.",
                                            "request_heartbeat": True})
    sleepy.push_tool_call("memory_finish_edits", {})
    for n in range(4):
        main.script.push_tool_call("send_message", {"message": f"reply {n}"})
        client.agents.messages.create(agent_id=main.id, messages=[MessageCreate(role="user", content=f"msg {n}")])
    assert _runs(http, helper.id) == [], "no sleep-time run before the fifth turn"
    main.script.push_tool_call("send_message", {"message": "reply 4"})
    via_group = client.groups.messages.create(group_id=group.id,  # the group routes to the main agent
                                              messages=[MessageCreate(role="user", content="I like green tea")])
    assert [m.content for m in via_group.messages if m.message_type == "assistant_message"] == ["reply 4"]

    [run] = wait_until(lambda: _finished(http, helper.id, 1), what="the sleep-time run")
    assert run["status"] == "completed" and run["request_config"]["sleeptime"] is True
    transcript = scripted_llm.requests_for(sleepy_model)[0]["messages"][-1]["content"]
    assert "user: msg 0" in transcript and "user: I like green tea" in transcript
    assert f"{main.name}: reply 4" in transcript
    assert client.groups.retrieve(group_id=group.id).turns_counter == 5

    main.script.push_tool_call("send_message", {"message": "noted"})
    client.agents.messages.create(agent_id=main.id, messages=[MessageCreate(role="user", content="what do I like?")])
    system_prompt = scripted_llm.requests_for(main.model)[-1]["messages"][0]["content"]
    assert "Likes green tea." in system_prompt


def test_enable_sleeptime_false_removes_the_helper_and_its_group_and_true_brings_them_back(
        client, http, make_agent, scripted_llm, token):
    main, state, group, helper, _, _ = sleeptime_setup(client, http, make_agent, scripted_llm, token, "toggle")
    human = next(b for b in state.memory.blocks if b.label == "human")

    resp = http.patch(f"/v1/agents/{main.id}", json={"enable_sleeptime": False})

    assert resp.status_code == 200, resp.text
    assert resp.json()["enable_sleeptime"] is False and resp.json()["multi_agent_group"] is None
    assert http.get(f"/v1/agents/{helper.id}").status_code == 404
    assert http.get(f"/v1/groups/{group.id}").status_code == 404
    assert http.get(f"/v1/agents/{main.id}/groups").json() == []
    assert http.get(f"/v1/blocks/{human.id}").status_code == 200, "the main agent's shared block stays"
    main.script.push_tool_call("send_message", {"message": "still here"})
    reply = client.agents.messages.create(agent_id=main.id, messages=[MessageCreate(role="user", content="hi")])
    assert [m.content for m in reply.messages if m.message_type == "assistant_message"] == ["still here"]

    resp = http.patch(f"/v1/agents/{main.id}", json={"enable_sleeptime": True})

    assert resp.status_code == 200, resp.text
    again = resp.json()["multi_agent_group"]
    assert again is not None and again["id"] != group.id and again["manager_agent_id"] == main.id
    [new_helper] = again["agent_ids"]
    assert new_helper != helper.id
    helper_state = http.get(f"/v1/agents/{new_helper}").json()
    assert helper_state["name"] == f"{main.name}-sleeptime"
    assert human.id in {b["id"] for b in helper_state["memory"]["blocks"]}
    assert http.patch(f"/v1/agents/{main.id}", json={"enable_sleeptime": True}).json()["multi_agent_group"][
        "id"] == again["id"], "enabling twice keeps the one group"
