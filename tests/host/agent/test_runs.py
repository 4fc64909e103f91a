"""Runs and steps: asynchronous messages, listing and inspecting runs, cancelling a run in flight."""

from __future__ import annotations

from tests.host.agent.conftest import history
from tests.support.waiting import wait_until


def _finished(http, run_id: str) -> bool:
    return http.get(f"/v1/runs/{run_id}").json()["status"] not in ("created", "running")


def test_an_async_message_becomes_a_run_with_messages_usage_and_steps(http, make_agent, model):
    agent = make_agent()
    model.script.push_tool_call("conversation_search", {"query": "x", "request_heartbeat": True})
    model.script.push_tool_call("send_message", {"message": "async answer"})

    resp = http.post(f"/v1/agents/{agent['id']}/messages/async",
                     json={"messages": [{"role": "user", "content": "do it later"}]})

    assert resp.status_code == 200, resp.text
    run = resp.json()
    assert run["id"].startswith("run-") and run["agent_id"] == agent["id"] and run["status"] == "running"
    wait_until(lambda: _finished(http, run["id"]), what="the run to finish")
    done = http.get(f"/v1/runs/{run['id']}").json()
    assert done["status"] == "completed" and done["stop_reason"] == "end_turn" and done["completed_at"]
    msgs = http.get(f"/v1/runs/{run['id']}/messages").json()
    assert [m["message_type"] for m in msgs][0] == "user_message"
    assert msgs[-1]["message_type"] == "assistant_message" and msgs[-1]["content"] == "async answer"
    usage = http.get(f"/v1/runs/{run['id']}/usage").json()
    assert usage["total_tokens"] > 0 and usage["total_tokens"] == usage["prompt_tokens"] + usage["completion_tokens"]
    steps = http.get(f"/v1/runs/{run['id']}/steps", params={"order": "asc"}).json()
    assert len(steps) == 2 and all(s["job_id"] == run["id"] for s in steps)
    assert steps[0]["stop_reason"] is None and steps[1]["stop_reason"] == "end_turn"
    assert http.get(f"/v1/steps/{steps[0]['id']}").json()["id"] == steps[0]["id"]
    by_agent = http.get("/v1/steps/", params={"agent_id": agent["id"]}).json()
    assert {s["id"] for s in steps} <= {s["id"] for s in by_agent}
    assert run["id"] in [r["id"] for r in http.get("/v1/runs/", params={"agent_ids": [agent["id"]]}).json()]
    assert run["id"] not in [r["id"] for r in http.get("/v1/runs/active").json()]

    assert http.delete(f"/v1/runs/{run['id']}").status_code == 200
    assert http.get(f"/v1/runs/{run['id']}").status_code == 404


def test_a_running_run_is_listed_as_active_and_can_be_cancelled(http, make_agent, model):
    agent = make_agent()
    before = len(history(http, agent["id"]))
    seen = len(model.llm.requests)
    model.script.push_delay(30)  # the model call hangs until the run is cancelled
    model.script.push_tool_call("send_message", {"message": "too late"})

    run = http.post(f"/v1/agents/{agent['id']}/messages/async",
                    json={"messages": [{"role": "user", "content": "slow"}]}).json()
    model.llm.wait_for_requests(seen + 1)
    assert run["id"] in [r["id"] for r in http.get("/v1/runs/active", params={"agent_ids": [agent["id"]]}).json()]

    cancelled = http.post(f"/v1/agents/{agent['id']}/messages/cancel", json=[run["id"]])

    assert cancelled.status_code == 200 and cancelled.json() == {run["id"]: "cancelled"}
    wait_until(lambda: _finished(http, run["id"]))
    assert http.get(f"/v1/runs/{run['id']}").json()["status"] == "cancelled"
    assert len(history(http, agent["id"])) == before, "the cancelled step is not written"
    model.script.push_tool_call("send_message", {"message": "back"})
    body = http.post(f"/v1/agents/{agent['id']}/messages",
                     json={"messages": [{"role": "user", "content": "next"}]}).json()
    assert body["messages"][-1]["content"] == "back"


def test_cancelling_an_unknown_run_is_404(http, make_agent):
    agent = make_agent()
    resp = http.post(f"/v1/agents/{agent['id']}/messages/cancel", json=["run-00000000-0000-0000-0000-000000000000"])
    assert resp.status_code == 404
