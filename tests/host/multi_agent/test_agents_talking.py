"""Two agents talking through the multi-agent tools, end to end through a running server."""

from __future__ import annotations

from tests.host.multi_agent.helpers import history, send, tool_returns
from tests.support.waiting import wait_until

WAIT = "send_message_to_agent_and_wait_for_reply"
ASYNC = "send_message_to_agent_async"


def test_wait_for_reply_returns_the_targets_answer_and_the_target_sees_the_sender(http, make_agent, scripted_llm):
    alice = make_agent("alice", include_multi_agent_tools=True)
    bob = make_agent("bob", include_multi_agent_tools=True)
    alice.script.push_tool_call(WAIT, {"other_agent_id": bob.id, "message": "What is 2+2?", "request_heartbeat": True})
    alice.script.push_tool_call("send_message", {"message": "Bob says four."})
    bob.script.push_tool_call("send_message", {"message": "four"})

    messages = send(http, alice, "ask bob")

    [ret] = tool_returns(messages, WAIT)
    assert ret["status"] == "success", ret["tool_return"]
    assert ret["tool_return"] == "four"
    assert [m["content"] for m in messages if m["message_type"] == "assistant_message"] == ["Bob says four."]
    incoming = [m for m in history(http, bob) if m["message_type"] == "user_message"][-1]
    assert alice.id in incoming["content"] and "What is 2+2?" in incoming["content"]
    assert incoming.get("sender_id") == alice.id
    bob_prompt = scripted_llm.requests_for(bob.model)[-1]["messages"]
    assert any(alice.id in str(m.get("content")) for m in bob_prompt if m["role"] == "user")


def test_async_message_returns_a_receipt_and_the_target_replies_to_the_sender(http, make_agent):
    alice = make_agent("alice", include_multi_agent_tools=True)
    bob = make_agent("bob", include_multi_agent_tools=True)
    alice.script.push_tool_call(ASYNC, {"other_agent_id": bob.id, "message": "ping"})
    bob.script.push_tool_call(ASYNC, {"other_agent_id": alice.id, "message": "pong"})
    alice.script.push_tool_call("send_message", {"message": "got pong"})

    messages = send(http, alice, "ping bob")

    [ret] = tool_returns(messages, ASYNC)
    assert ret["status"] == "success"
    receipt = ret["tool_return"]
    assert f"Message delivered to agent '{bob.id}'" in receipt
    run_id = receipt.split("(receipt ")[1].split(")")[0]
    assert http.get(f"/v1/runs/{run_id}").json()["agent_id"] == bob.id

    def alice_got_pong():
        return [m for m in history(http, alice) if m["message_type"] == "assistant_message"
                and m["content"] == "got pong"]

    wait_until(alice_got_pong, what="alice's reply to bob's pong")
    incoming = [m for m in history(http, alice) if m["message_type"] == "user_message" and "pong" in m["content"]]
    assert incoming and bob.id in incoming[-1]["content"] and incoming[-1].get("sender_id") == bob.id
    assert f"other_agent_id='{bob.id}'" in incoming[-1]["content"], "the framing tells alice how to answer"


def test_messaging_an_unknown_agent_is_a_clear_tool_error(http, make_agent):
    alice = make_agent("alice", include_multi_agent_tools=True)
    alice.script.push_tool_call(WAIT, {"other_agent_id": "agent-00000000-0000-4000-8000-000000000000",
                                       "message": "hello?"})
    alice.script.push_tool_call("send_message", {"message": "nobody there"})

    messages = send(http, alice, "try")

    [ret] = tool_returns(messages, WAIT)
    assert ret["status"] == "error"
    assert "No agent with id 'agent-00000000-0000-4000-8000-000000000000' exists" in ret["tool_return"]
