"""A streamed group turn hands out each member's messages (token deltas with stream_tokens) as they are made."""

from __future__ import annotations

import json

from letta_client import MessageCreate, RoundRobinManager

from tests.host.agent.conftest import sse_events
from tests.support.waiting import wait_until


def _stream(http, group_id: str, text: str, **body) -> list:
    resp = http.post(f"/v1/groups/{group_id}/messages/stream",
                     json={"messages": [{"role": "user", "content": text}], **body})
    assert resp.status_code == 200, resp.text
    return [data for _, data in sse_events(resp.text)]


def test_token_stream_sends_each_members_answer_in_pieces_in_speaking_order(http, make_agent):
    a, b = make_agent("tok-a"), make_agent("tok-b")
    said_a, said_b = "alice answers in a fairly long sentence", "and bob follows with another long one"
    a.script.push_tool_call("send_message", {"message": said_a})
    b.script.push_tool_call("send_message", {"message": said_b})
    group = http.post("/v1/groups", json={"agent_ids": [a.id, b.id], "description": "tokens"}).json()

    events = _stream(http, group["id"], "talk", stream_tokens=True)

    said = [e for e in events if e != "[DONE]" and e["message_type"] == "assistant_message"]
    by_otid: dict[str, list[str]] = {}
    for e in said:
        by_otid.setdefault(e["otid"], []).append(e["content"])
    assert ["".join(parts) for parts in by_otid.values()] == [said_a, said_b], "each member's answer, in order"
    assert all(len(parts) > 1 for parts in by_otid.values()), "token deltas, not whole messages"
    assert [e["message_type"] for e in events[-3:-1]] == ["stop_reason", "usage_statistics"]
    assert events[-3]["stop_reason"] == "end_turn" and events[-2]["step_count"] == 2
    assert events[-1] == "[DONE]"
    listed = http.get(f"/v1/groups/{group['id']}/messages", params={"limit": 50}).json()
    assert [m["content"] for m in listed if m["message_type"] == "assistant_message"] == [said_a, said_b]


def test_the_first_members_deltas_arrive_while_the_group_turn_is_still_running(http, make_agent, scripted_llm):
    """The first member's tool call streams while its next model call is still waiting (and the second
    member has not spoken): the client hears it before the group turn ends; hanging up cancels the turn."""
    a, b = make_agent("early-a"), make_agent("early-b")
    a.script.push_tool_call("conversation_search", {"query": "anything said before about the weather",
                                                    "request_heartbeat": True})
    a.script.push_delay(120).push_tool_call("send_message", {"message": "too late"})
    group = http.post("/v1/groups", json={"agent_ids": [a.id, b.id], "description": "early"}).json()

    seen: list[dict] = []
    with http.stream("POST", f"/v1/groups/{group['id']}/messages/stream",
                     json={"messages": [{"role": "user", "content": "go"}], "stream_tokens": True}) as resp:
        assert resp.status_code == 200
        for line in resp.iter_lines():
            if line.startswith("data: ") and line != "data: [DONE]":
                seen.append(json.loads(line[len("data: "):]))
            if any(e["message_type"] == "tool_return_message" for e in seen):
                break  # the first step is over; the member's second model call is waiting
    calls = [e for e in seen if e["message_type"] == "tool_call_message"]
    assert len(calls) > 1 and calls[0]["tool_call"]["name"] == "conversation_search"
    assert json.loads("".join(c["tool_call"]["arguments"] for c in calls))["request_heartbeat"] is True
    assert all(e["message_type"] not in ("stop_reason", "usage_statistics") for e in seen)
    assert scripted_llm.requests_for(b.model) == [], "the second member has not been asked yet"

    runs = wait_until(lambda: [r for r in http.get("/v1/runs/", params={"agent_id": a.id}).json()
                               if r["status"] == "cancelled"], what="the member's run cancelled")
    assert runs[0]["request_config"]["group_id"] == group["id"]
    assert scripted_llm.requests_for(b.model) == [], "the members after it do not speak"


def test_step_stream_without_tokens_sends_whole_messages(client, make_agent):
    a = make_agent("whole")
    a.script.push_tool_call("send_message", {"message": "one whole message"})
    group = client.groups.create(agent_ids=[a.id], description="whole", manager_config=RoundRobinManager())
    chunks = list(client.groups.messages.create_stream(group_id=group.id, stream_tokens=False,
                                                       messages=[MessageCreate(role="user", content="hi")]))
    assert [c.content for c in chunks if c.message_type == "assistant_message"] == ["one whole message"]
    assert [c.message_type for c in chunks[-2:]] == ["stop_reason", "usage_statistics"]


def test_streaming_to_an_unknown_group_is_a_json_404(http):
    resp = http.post("/v1/groups/group-00000000-0000-4000-8000-000000000000/messages/stream",
                     json={"messages": [{"role": "user", "content": "hi"}], "stream_tokens": True})
    assert resp.status_code == 404 and "group" in resp.text.lower()
