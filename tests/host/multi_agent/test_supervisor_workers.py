"""Supervisor-worker: one agent messages every agent with matching tags and collects their replies."""

from __future__ import annotations

import json

from tests.host.multi_agent.helpers import send, tool_returns

ALL_TAGS = "send_message_to_agents_matching_all_tags"
SOME_TAGS = "send_message_to_agents_matching_tags"


def _replies(ret: dict) -> tuple[str, list[dict]]:
    text = ret["tool_return"]
    header, _, body = text.partition("\n")
    return header, json.loads(body)


def test_supervisor_collects_the_replies_of_every_worker_with_all_the_tags(http, make_agent, token):
    team = f"team-{token}"
    supervisor = make_agent("boss", include_multi_agent_tools=True, tags=[team, "supervisor"])
    workers = [make_agent(f"worker{n}", tags=[team, "worker"]) for n in range(3)]
    make_agent("bystander", tags=[team])  # lacks the "worker" tag: must not be asked
    for n, worker in enumerate(workers):
        worker.script.push_tool_call("send_message", {"message": f"part {n} done"})
    supervisor.script.push_tool_call(ALL_TAGS, {"tags": [team, "worker"], "message": "Do your part.",
                                                "request_heartbeat": True})
    supervisor.script.push_tool_call("send_message", {"message": "All parts done."})

    messages = send(http, supervisor, "run the job")

    [ret] = tool_returns(messages, ALL_TAGS)
    assert ret["status"] == "success"
    header, replies = _replies(ret)
    assert header == "3 of 3 matching agent(s) replied."
    assert {r["agent_id"]: r["reply"] for r in replies} == {w.id: f"part {n} done" for n, w in enumerate(workers)}
    assert all(r["status"] == "replied" for r in replies)
    assert messages[-1]["content"] == "All parts done."


def test_match_all_and_match_some_choose_the_recipients(http, make_agent, token):
    team = f"team-{token}"
    supervisor = make_agent("boss", include_multi_agent_tools=True, tags=[team])
    red = make_agent("red", tags=[team, "red"])
    blue = make_agent("blue", tags=[team, "blue"])
    make_agent("plain", tags=[team])
    make_agent("outsider", tags=["red"])
    red.script.push_tool_call("send_message", {"message": "red here"})
    blue.script.push_tool_call("send_message", {"message": "blue here"})
    supervisor.script.push_tool_call(SOME_TAGS, {"match_all": [team], "match_some": ["red", "blue"],
                                                 "message": "roll call"})

    messages = send(http, supervisor, "roll call")

    [ret] = tool_returns(messages, SOME_TAGS)
    header, replies = _replies(ret)
    assert header == "2 of 2 matching agent(s) replied."
    assert {r["agent_id"]: r["reply"] for r in replies} == {red.id: "red here", blue.id: "blue here"}


def test_no_matching_agent_is_a_clear_tool_error(http, make_agent, token):
    supervisor = make_agent("boss", include_multi_agent_tools=True, tags=[f"lonely-{token}"])
    supervisor.script.push_tool_call(ALL_TAGS, {"tags": [f"lonely-{token}"], "message": "anyone?"})
    supervisor.script.push_tool_call("send_message", {"message": "no one"})

    messages = send(http, supervisor, "anyone?")

    [ret] = tool_returns(messages, ALL_TAGS)
    assert ret["status"] == "error"
    assert "No other agent matches" in ret["tool_return"], "the sender itself is never a recipient"
