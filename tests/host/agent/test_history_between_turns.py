"""Between turns the server keeps an agent's in-context messages in memory; whatever changes them from
outside a turn must still reach the model. And a turn's last step closes its run."""

from __future__ import annotations

from tests.host.agent.conftest import history, send


def _contents(request: dict) -> list[str]:
    return [m.get("content") or "" for m in request["messages"]]


def test_a_message_edited_between_turns_reaches_the_model_as_edited(http, make_agent, model):
    agent = make_agent()
    model.script.push_tool_call("send_message", {"message": "noted"})
    assert send(http, agent["id"], "my name is Ada").status_code == 200
    said = next(m for m in history(http, agent["id"]) if m["message_type"] == "user_message"
                and m["content"] == "my name is Ada")

    resp = http.patch(f"/v1/agents/{agent['id']}/messages/{said['id']}",
                      json={"message_type": "user_message", "content": "my name is Grace"})
    assert resp.status_code == 200, resp.text
    model.script.push_tool_call("send_message", {"message": "hello Grace"})
    assert send(http, agent["id"], "who am I?").status_code == 200

    sent = _contents(model.requests[-1])
    assert "my name is Grace" in sent and "my name is Ada" not in sent


def test_a_reset_between_turns_leaves_the_old_messages_out_of_the_prompt(http, make_agent, model):
    agent = make_agent()
    model.script.push_tool_call("send_message", {"message": "ok"})
    assert send(http, agent["id"], "remember zebra").status_code == 200
    assert http.patch(f"/v1/agents/{agent['id']}/reset-messages").status_code == 200
    model.script.push_tool_call("send_message", {"message": "ok"})
    assert send(http, agent["id"], "fresh start").status_code == 200
    sent = _contents(model.requests[-1])
    assert "fresh start" in sent and not any("zebra" in c for c in sent)


def test_a_synchronous_turn_closes_its_run_with_the_last_step(http, make_agent, model):
    agent = make_agent()
    model.script.push_tool_call("conversation_search", {"query": "x", "request_heartbeat": True})
    model.script.push_tool_call("conversation_search", {"query": "y", "request_heartbeat": True})
    resp = send(http, agent["id"], "search twice", max_steps=2)
    assert resp.status_code == 200, resp.text
    assert resp.json()["stop_reason"]["stop_reason"] == "max_steps"

    runs = http.get("/v1/runs/", params={"agent_ids": [agent["id"]]}).json()
    assert len(runs) == 1
    run = runs[0]
    assert (run["status"], run["stop_reason"]) == ("completed", "max_steps") and run["completed_at"]
    steps = http.get(f"/v1/runs/{run['id']}/steps", params={"order": "asc"}).json()
    assert [s["stop_reason"] for s in steps] == [None, "max_steps"]
    usage = http.get(f"/v1/runs/{run['id']}/usage").json()
    assert usage["total_tokens"] == sum(s["total_tokens"] for s in steps) > 0, "both steps' usage is on the run"
