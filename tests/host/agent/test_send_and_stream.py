"""Sending and streaming messages through the real letta-client SDK and raw HTTP (scripted model over litellm)."""

from __future__ import annotations

import json
import uuid

from letta_client import MessageCreate

from tests.host.agent.conftest import history, send, sse_events


def test_the_sdk_sends_a_message_and_lists_the_turn_in_history(client, make_agent, model):
    agent = make_agent()
    model.script.push_tool_call("send_message", {"inner_thoughts": "Greet back.", "message": "Hi Ada!"})

    response = client.agents.messages.create(agent_id=agent["id"],
                                             messages=[MessageCreate(role="user", content="hello there")])

    assert [m.message_type for m in response.messages] == ["reasoning_message", "assistant_message"]
    reasoning, said = response.messages
    assert reasoning.reasoning == "Greet back." and said.content == "Hi Ada!"
    assert reasoning.id == said.id and reasoning.otid != said.otid, "one stored message, two parts"
    assert said.step_id and said.step_id.startswith("step-") and said.otid
    assert response.stop_reason.stop_reason == "end_turn"
    assert response.usage.step_count == 1 and response.usage.total_tokens > 0
    listed = client.agents.messages.list(agent_id=agent["id"], limit=100)
    assert [m.message_type for m in listed[-3:]] == ["user_message", "reasoning_message", "assistant_message"]
    assert listed[-3].content == "hello there" and listed[-1].content == "Hi Ada!"
    offered = model.offered(0)
    assert "send_message" in offered and model.requests[0]["tool_choice"] == "required"


def test_without_assistant_messages_send_message_shows_as_a_tool_call(http, make_agent, model):
    agent = make_agent()
    model.script.push_tool_call("send_message", {"message": "raw"})

    body = send(http, agent["id"], use_assistant_message=False).json()

    call = next(m for m in body["messages"] if m["message_type"] == "tool_call_message")
    assert call["tool_call"]["name"] == "send_message"
    assert json.loads(call["tool_call"]["arguments"])["message"] == "raw"
    assert any(m["message_type"] == "tool_return_message" for m in body["messages"])
    assert not any(m["message_type"] == "assistant_message" for m in body["messages"])


def test_include_return_message_types_filters_the_response(http, make_agent, model):
    agent = make_agent()
    model.script.push_tool_call("send_message", {"inner_thoughts": "t", "message": "only me"})

    body = send(http, agent["id"], include_return_message_types=["assistant_message"]).json()

    assert [m["message_type"] for m in body["messages"]] == ["assistant_message"]


def test_user_message_with_system_role_sender_and_otid_is_persisted(http, make_agent, model):
    agent = make_agent()
    messages = [{"role": "system", "content": "the clock changed", "otid": "otid-sys-1"},
                {"role": "user", "content": "hi", "sender_id": "user-42", "otid": "otid-user-1"}]

    resp = http.post(f"/v1/agents/{agent['id']}/messages", json={"messages": messages})
    assert resp.status_code == 200, resp.text

    listed = history(http, agent["id"])
    note, user = listed[-4], listed[-3]
    assert note["otid"] == "otid-sys-1" and json.loads(note["content"]) == {
        "type": "system_message", "message": "the clock changed"}
    assert user["otid"] == "otid-user-1" and user["sender_id"] == "user-42" and user["content"] == "hi"
    sent = model.requests[0]["messages"]
    assert sent[-1]["content"] == "hi" and "the clock changed" in sent[-2]["content"]


def test_a_tool_call_then_send_message_is_two_steps(client, make_agent, model):
    agent = make_agent()
    model.script.push_tool_call("conversation_search", {"query": "zebra", "request_heartbeat": True})
    model.script.push_tool_call("send_message", {"message": "found nothing"})

    response = client.agents.messages.create(agent_id=agent["id"], messages=[MessageCreate(role="user", content="q")])

    types = [m.message_type for m in response.messages]
    assert types == ["tool_call_message", "tool_return_message", "assistant_message"]
    assert response.messages[1].status == "success"
    assert response.usage.step_count == 2
    second = model.requests[1]["messages"]
    assert second[-1]["role"] == "tool" and json.loads(second[-1]["content"])["status"] == "OK"


def test_sse_step_stream_matches_lettas_wire_format(http, make_agent, model):
    agent = make_agent()
    model.script.push_tool_call("send_message", {"inner_thoughts": "fake inner thoughts", "message": "hello"})

    resp = http.post(f"/v1/agents/{agent['id']}/messages/stream",
                     json={"messages": [{"role": "user", "content": "raw stream test"}], "stream_tokens": False})

    assert resp.status_code == 200 and resp.headers["content-type"].startswith("text/event-stream")
    assert resp.text.startswith('data: {"id":"message-'), "compact JSON, one data line per event"
    events = [data for _, data in sse_events(resp.text)]
    assert [e if e == "[DONE]" else e["message_type"] for e in events] == [
        "reasoning_message", "assistant_message", "stop_reason", "usage_statistics", "[DONE]"]
    assert events[2] == {"message_type": "stop_reason", "stop_reason": "end_turn"}
    assert events[3]["step_count"] == 1 and set(events[3]) == {
        "message_type", "completion_tokens", "prompt_tokens", "total_tokens", "step_count", "steps_messages",
        "run_ids"}
    assert resp.text.endswith("data: [DONE]\n\n")


def test_token_stream_sends_the_answer_in_pieces(http, make_agent, model):
    agent = make_agent()
    text = "a fairly long answer that arrives in several pieces"
    model.script.push_tool_call("send_message", {"inner_thoughts": "thinking hard about it", "message": text})

    resp = http.post(f"/v1/agents/{agent['id']}/messages/stream",
                     json={"messages": [{"role": "user", "content": "go"}], "stream_tokens": True})

    events = [data for _, data in sse_events(resp.text)]
    said = [e for e in events if e != "[DONE]" and e["message_type"] == "assistant_message"]
    thought = [e for e in events if e != "[DONE]" and e["message_type"] == "reasoning_message"]
    assert len(said) > 1 and "".join(e["content"] for e in said) == text
    assert "".join(e["reasoning"] for e in thought) == "thinking hard about it"
    assert len({e["otid"] for e in said}) == 1 and said[0]["id"] == thought[0]["id"]
    assert model.requests[0]["stream"] is True
    assert events[-3:-1][0]["stop_reason"] == "end_turn" and events[-1] == "[DONE]"
    stored = history(http, agent["id"])[-1]
    assert stored["message_type"] == "assistant_message" and stored["content"] == text


def test_token_stream_of_a_tool_call_streams_argument_deltas(http, make_agent, model):
    agent = make_agent()
    model.script.push_tool_call("archival_memory_insert", {"content": "the launch code is 1234 and more words"})
    model.script.push_tool_call("send_message", {"message": "saved"})

    resp = http.post(f"/v1/agents/{agent['id']}/messages/stream",
                     json={"messages": [{"role": "user", "content": "remember"}], "stream_tokens": True})

    events = [d for _, d in sse_events(resp.text) if d != "[DONE]"]
    calls = [e for e in events if e["message_type"] == "tool_call_message"]
    assert calls[0]["tool_call"]["name"] == "archival_memory_insert" and len(calls) > 2
    args = json.loads("".join(e["tool_call"]["arguments"] for e in calls))
    assert args["content"] == "the launch code is 1234 and more words"
    ret = next(e for e in events if e["message_type"] == "tool_return_message")
    assert ret["status"] == "success"


def test_the_sdk_streams_steps_and_tokens(client, make_agent, model):
    agent = make_agent()
    for stream_tokens in (False, True):
        model.script.push_tool_call("send_message", {"message": f"streamed {stream_tokens}"})
        chunks = list(client.agents.messages.create_stream(
            agent_id=agent["id"], messages=[MessageCreate(role="user", content="s")], stream_tokens=stream_tokens))

        said = "".join(c.content for c in chunks if c.message_type == "assistant_message")
        assert said == f"streamed {stream_tokens}"
        assert [c.message_type for c in chunks[-2:]] == ["stop_reason", "usage_statistics"]
        assert chunks[-2].stop_reason == "end_turn"


def test_a_turn_reports_where_its_time_went_in_server_timing(http, make_agent, model):
    agent = make_agent()
    model.script.push_tool_call("conversation_search", {"query": "x", "request_heartbeat": True})
    model.script.push_tool_call("send_message", {"message": "done"})
    resp = send(http, agent["id"], "look it up")
    assert resp.status_code == 200, resp.text
    parts = {}
    for part in resp.headers["server-timing"].split(","):
        name, _, param = part.strip().partition(";")
        parts[name] = float(param.split("=", 1)[1])
    assert set(parts) == {"model", "model-cpu", "db", "tools", "total", "cpu", "steps"}
    assert parts["steps"] == 2 == resp.json()["usage"]["step_count"]
    assert parts["model"] > 0 and parts["db"] > 0 and parts["model-cpu"] > 0 and parts["tools"] > 0
    assert parts["total"] >= parts["model"] + parts["db"] + parts["tools"], "the parts are within the whole"
    assert parts["cpu"] >= parts["model-cpu"], "the model calls' CPU is part of the turn's"


def test_enable_reasoner_on_an_openai_reasoning_model_is_a_reasoning_effort_without_inner_thoughts(
        http, make_agent, scripted_llm):
    """As Letta applies enable_reasoner: o-series models reason natively (effort "medium"); others keep
    their reasoning in the tools' inner_thoughts argument."""
    name = f"o4-mini-{uuid.uuid4().hex[:8]}"
    agent = make_agent(model=f"openai-proxy/{name}", enable_reasoner=True)
    plain = make_agent(enable_reasoner=True)

    assert (agent["llm_config"]["put_inner_thoughts_in_kwargs"], agent["llm_config"]["reasoning_effort"]) == (
        False, "medium")
    assert plain["llm_config"]["put_inner_thoughts_in_kwargs"] is True and plain["llm_config"]["enable_reasoner"]
    assert send(http, agent["id"], "think first").status_code == 200
    [request] = scripted_llm.requests_for(name)
    assert request["reasoning_effort"] == "medium"
    send_message = next(t for t in request["tools"] if t["function"]["name"] == "send_message")
    assert "inner_thoughts" not in send_message["function"]["parameters"]["properties"]
