"""Loops between agents stop, an agent cannot deadlock itself, and shared blocks are seen at once."""

from __future__ import annotations

import time

from tests.host.multi_agent.helpers import history, send, tool_returns
from tests.support.waiting import wait_until

WAIT = "send_message_to_agent_and_wait_for_reply"
ASYNC = "send_message_to_agent_async"


def test_a_wait_cycle_between_two_agents_is_refused_at_once_instead_of_deadlocking(http, make_agent):
    alice = make_agent("alice", include_multi_agent_tools=True)
    bob = make_agent("bob", include_multi_agent_tools=True)
    alice.script.push_tool_call(WAIT, {"other_agent_id": alice.id, "message": "me?", "request_heartbeat": True})
    alice.script.push_tool_call(WAIT, {"other_agent_id": bob.id, "message": "status?", "request_heartbeat": True})
    # Bob, asked by the waiting Alice, tries to wait on Alice in turn: Alice's lock is held by her own turn.
    bob.script.push_tool_call(WAIT, {"other_agent_id": alice.id, "message": "what do you mean?",
                                     "request_heartbeat": True})
    bob.script.push_tool_call("send_message", {"message": "all green"})
    alice.script.push_tool_call("send_message", {"message": "Bob: all green"})

    started = time.monotonic()
    messages = send(http, alice, "check on bob")
    elapsed = time.monotonic() - started

    assert elapsed < 15, f"the cycle must be refused, not time out (took {elapsed:.1f}s)"
    own, to_bob = tool_returns(messages, WAIT)
    assert own["status"] == "error" and "your own id" in own["tool_return"]
    assert to_bob["status"] == "success"
    assert to_bob["tool_return"] == "all green"
    [refused] = [m for m in history(http, bob) if m["message_type"] == "tool_return_message"]
    assert "Not delivered" in refused["tool_return"] and alice.id in refused["tool_return"]
    assert messages[-1]["content"] == "Bob: all green"


def test_async_ping_pong_stops_at_the_call_depth_limit(http, make_agent):
    alice = make_agent("alice", include_multi_agent_tools=True)
    bob = make_agent("bob", include_multi_agent_tools=True)
    # Depths: alice 0 -> bob 1 -> alice 2 -> bob 3, where messaging further is refused.
    alice.script.push_tool_call(ASYNC, {"other_agent_id": bob.id, "message": "ping 1"})
    bob.script.push_tool_call(ASYNC, {"other_agent_id": alice.id, "message": "pong 1"})
    alice.script.push_tool_call(ASYNC, {"other_agent_id": bob.id, "message": "ping 2"})
    bob.script.push_tool_call(ASYNC, {"other_agent_id": alice.id, "message": "pong 2"})
    bob.script.push_tool_call("send_message", {"message": "stopping here"})

    send(http, alice, "start the rally")

    def bob_stopped():
        return [m for m in history(http, bob) if m["message_type"] == "assistant_message"
                and m["content"] == "stopping here"]

    wait_until(bob_stopped, what="bob's last turn")
    bob_returns = [m for m in history(http, bob) if m["message_type"] == "tool_return_message"]
    assert [m["status"] for m in bob_returns] == ["success", "error"]
    assert "too deep" in bob_returns[-1]["tool_return"]
    pongs = [m for m in history(http, alice) if m["message_type"] == "user_message" and "pong" in m["content"]]
    assert len(pongs) == 1, "pong 2 was never delivered"
    runs = http.get("/v1/runs/", params={"agent_ids": alice.id}).json()
    alice_runs = [r for r in runs if r.get("agent_id") == alice.id]
    assert all(r["status"] == "completed" for r in alice_runs)


def test_a_shared_block_edited_by_one_agent_is_seen_by_the_other_in_the_same_exchange(http, make_agent,
                                                                                    scripted_llm, token):
    resp = http.post("/v1/blocks", json={"label": "plan", "value": "Plan: undecided."})
    assert resp.status_code == 200, resp.text
    block = resp.json()
    alice = make_agent("alice", include_multi_agent_tools=True, block_ids=[block["id"]])
    bob = make_agent("bob", block_ids=[block["id"]])
    alice.script.push_tool_call("core_memory_replace", {"label": "plan", "old_content": "undecided",
                                                        "new_content": f"ship {token}", "request_heartbeat": True})
    alice.script.push_tool_call(WAIT, {"other_agent_id": bob.id, "message": "read the plan",
                                       "request_heartbeat": True})
    bob.script.push_tool_call("send_message", {"message": "plan read"})
    alice.script.push_tool_call("send_message", {"message": "done"})

    send(http, alice, "decide")

    bob_system = scripted_llm.requests_for(bob.model)[-1]["messages"][0]
    assert bob_system["role"] == "system" and f"Plan: ship {token}." in bob_system["content"]
    for agent in (alice, bob):
        blocks = http.get(f"/v1/agents/{agent.id}/core-memory/blocks").json()
        assert next(b for b in blocks if b["label"] == "plan")["value"] == f"Plan: ship {token}."
    http.delete(f"/v1/blocks/{block['id']}")
