"""1.x streaming on POST /v1/agents/{id}/messages: the second encoder over the same typed events."""

from __future__ import annotations

import json
import os
import uuid
from typing import Any

import httpx
import pytest

from tests.v1.test_shared_routes import EMBEDDING, V1

SEND_TEXT = "send_message"


def agent_for(http: Any, model: str) -> str:
    body = {"model": f"openai-proxy/{model}", "embedding": EMBEDDING,
            "memory_blocks": [{"label": "human", "value": "x"}]}
    response = http.post("/v1/agents/", json=body)
    assert response.status_code == 200, response.text
    return response.json()["id"]


def events(text: str) -> list[Any]:
    """The ``data:`` payloads of an SSE body, in order (``[DONE]`` as the string)."""
    out = []
    for line in text.split("\n"):
        if line.startswith("data: "):
            data = line[6:]
            out.append(data if data == "[DONE]" else json.loads(data))
    return out


def test_streaming_true_is_refused_to_non_1x_clients_as_letta_does(http):
    agent = agent_for(http, f"v1s-{uuid.uuid4().hex[:6]}")
    response = http.post(f"/v1/agents/{agent}/messages", headers={"User-Agent": "curl/8"},
                         json={"messages": [{"role": "user", "content": "x"}], "streaming": True})
    assert response.status_code == 422
    assert response.json() == {"detail": "streaming=true is only supported for SDK v1.0+ clients."}


def test_a_1x_stream_opens_with_a_ping_and_ends_with_stop_reason_usage_and_done(http, scripted_llm):
    model = f"v1s-{uuid.uuid4().hex[:6]}"
    scripted_llm.for_model(model).push_tool_call("roll", {}).push_tool_call(SEND_TEXT, {"message": "done"})
    agent = agent_for(http, model)
    response = http.post(f"/v1/agents/{agent}/messages", headers=V1,
                         json={"messages": [{"role": "user", "content": "stream this"}], "streaming": True})
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/event-stream")
    got = events(response.text)
    assert got[0]["message_type"] == "ping" and got[0]["id"].startswith("ping-")
    run_id = got[0]["run_id"]
    assert run_id.startswith("run-")
    assert [e if isinstance(e, str) else e["message_type"] for e in got[-3:]] == \
        ["stop_reason", "usage_statistics", "[DONE]"]
    usage = got[-2]
    assert {"cached_input_tokens", "cache_write_tokens", "reasoning_tokens", "context_tokens"} <= set(usage)
    assert "steps_messages" not in usage
    messages = [e for e in got[1:-3]]
    assert all(m["run_id"] == run_id and "seq_id" in m for m in messages)
    call = next(m for m in messages if m["message_type"] == "tool_call_message")
    assert call["tool_calls"] == [call["tool_call"]]
    ret = next(m for m in messages if m["message_type"] == "tool_return_message")
    [one] = ret["tool_returns"]
    assert one["type"] == "tool" and one["tool_call_id"] == ret["tool_call_id"] and one["status"] == ret["status"]
    assert list(messages[0])[:10] == ["id", "date", "name", "message_type", "otid", "sender_id", "step_id",
                                      "is_err", "seq_id", "run_id"]
    assert any(m["message_type"] == "assistant_message" and m["content"] == "done" for m in messages)


def test_include_pings_false_and_stream_tokens_deltas_share_one_id(http, scripted_llm):
    model = f"v1s-{uuid.uuid4().hex[:6]}"
    scripted_llm.for_model(model).push_tool_call(SEND_TEXT, {"message": "one two three four"})
    agent = agent_for(http, model)
    body = {"messages": [{"role": "user", "content": "tokens"}], "streaming": True, "stream_tokens": True,
            "include_pings": False}
    got = events(http.post(f"/v1/agents/{agent}/messages", headers=V1, json=body).text)
    assert got[0]["message_type"] != "ping"
    parts = [e for e in got if isinstance(e, dict) and e["message_type"] == "assistant_message"]
    assert len(parts) > 1 and len({p["id"] for p in parts}) == 1
    assert "".join(p["content"] for p in parts) == "one two three four"


def test_0_8_clients_keep_0_8_streams_on_the_stream_route(http, scripted_llm):
    model = f"v1s-{uuid.uuid4().hex[:6]}"
    scripted_llm.for_model(model).push_tool_call(SEND_TEXT, {"message": "old"})
    agent = agent_for(http, model)
    got = events(http.post(f"/v1/agents/{agent}/messages/stream",
                           json={"messages": [{"role": "user", "content": "x"}]}).text)
    assert got[0]["message_type"] == "assistant_message" and "seq_id" not in got[0]
    got = events(http.post(f"/v1/agents/{agent}/messages/stream", headers=V1,
                           json={"messages": [{"role": "user", "content": "x"}]}).text)
    assert got[0]["message_type"] == "ping"  # 1.x clients on the deprecated route: Letta 0.16 pings too


def test_a_1x_json_answer_has_run_ids_and_call_lists(http, scripted_llm):
    model = f"v1s-{uuid.uuid4().hex[:6]}"
    scripted_llm.for_model(model).push_tool_call(SEND_TEXT, {"message": "plain"})
    agent = agent_for(http, model)
    out = http.post(f"/v1/agents/{agent}/messages", headers=V1,
                    json={"messages": [{"role": "user", "content": "x"}]}).json()
    assert out["messages"][0]["run_id"].startswith("run-") and out["messages"][0]["seq_id"] is None
    assert out["logprobs"] is None and "context_tokens" in out["usage"]
    old = http.post(f"/v1/agents/{agent}/messages", json={"messages": [{"role": "user", "content": "x"}]}).json()
    assert "seq_id" not in old["messages"][0] and "logprobs" not in old


def test_a_background_stream_numbers_its_events_and_outlives_a_client_that_hangs_up(http, scripted_llm):
    model = f"v1bg-{uuid.uuid4().hex[:6]}"
    scripted_llm.for_model(model).push_delay(1.0).push_tool_call(SEND_TEXT, {"message": "still here"})
    agent = agent_for(http, model)
    body = {"messages": [{"role": "user", "content": "in the background"}], "streaming": True, "background": True}
    with http.stream("POST", f"/v1/agents/{agent}/messages", headers=V1, json=body) as response:
        assert response.status_code == 200
        first = next(line for line in response.iter_lines() if line.startswith("data: "))
    opened = json.loads(first[6:])  # the client hangs up after the ping, while the model is still thinking
    assert opened["message_type"] == "ping" and opened["seq_id"] == 1
    run_id = opened["run_id"]
    resumed = events(http.post(f"/v1/runs/{run_id}/stream", headers=V1, json={"starting_after": 1}).text)
    kinds = [e if isinstance(e, str) else e["message_type"] for e in resumed]
    assert kinds == ["assistant_message", "stop_reason", "usage_statistics", "[DONE]"]
    assert resumed[0]["seq_id"] == 2 and resumed[0]["content"] == "still here"
    assert resumed[1]["stop_reason"] == "end_turn"
    assert http.get(f"/v1/runs/{run_id}").json()["status"] == "completed"
    again = events(http.post(f"/v1/runs/{run_id}/stream", headers=V1, json={"starting_after": 2}).text)
    assert [e if isinstance(e, str) else e["message_type"] for e in again] == \
        ["stop_reason", "usage_statistics", "[DONE]"]


def test_resuming_an_unknown_run_is_a_404_and_a_bad_cursor_a_422(http):
    missing = http.post("/v1/runs/run-00000000-0000-4000-8000-000000000000/stream", headers=V1, json={})
    assert missing.status_code == 404 and "run-00000000" in missing.text
    bad = http.post("/v1/runs/run-00000000-0000-4000-8000-000000000000/stream", json={"starting_after": "x"})
    assert bad.status_code == 422 and "starting_after" in bad.text


@pytest.mark.skipif(not os.environ.get("AGENTHOST_TEST_PG_URI"), reason="a fleet shares a Postgres database")
def test_another_server_on_the_same_postgres_database_follows_a_background_run_live(server, make_server, http,
                                                                                    scripted_llm):
    other = make_server(pg_uri=server.env["LETTA_PG_URI"])  # a second process, same database
    model = f"v1pg-{uuid.uuid4().hex[:6]}"
    scripted_llm.for_model(model).push_delay(1.0).push_tool_call(SEND_TEXT, {"message": "seen from afar"})
    agent = agent_for(http, model)
    body = {"messages": [{"role": "user", "content": "fleet"}], "streaming": True, "background": True}
    with http.stream("POST", f"/v1/agents/{agent}/messages", headers=V1, json=body) as response:
        first = json.loads(next(line for line in response.iter_lines() if line.startswith("data: "))[6:])
    with httpx.Client(base_url=other.base_url, timeout=60) as far:
        followed = events(far.post(f"/v1/runs/{first['run_id']}/stream", headers=V1, json={"starting_after": 1}).text)
    assert [e if isinstance(e, str) else e["message_type"] for e in followed] == \
        ["assistant_message", "stop_reason", "usage_statistics", "[DONE]"]
    assert followed[0]["content"] == "seen from afar"
