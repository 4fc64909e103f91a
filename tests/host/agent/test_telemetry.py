"""Telemetry over a real server turn: provider traces (GET /v1/telemetry/{step_id}), a step's transaction id,
and /metrics scraped after a turn."""

from __future__ import annotations

import json

from prometheus_client.parser import text_string_to_metric_families


def _turn(http, agent_id: str, text: str) -> list[dict]:
    resp = http.post(f"/v1/agents/{agent_id}/messages", json={"messages": [{"role": "user", "content": text}]})
    assert resp.status_code == 200, resp.text
    return resp.json()["messages"]


def _samples(text: str) -> dict[tuple[str, frozenset], float]:
    out = {}
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            out[(s.name, frozenset(s.labels.items()))] = s.value
    return out


def _value(samples, name: str, **labels: str) -> float:
    want = set(labels.items())
    return sum(v for (n, ls), v in samples.items() if n == name and want <= set(ls))


def test_a_steps_provider_trace_is_the_request_the_model_got_and_its_answer(http, make_agent, model):
    agent = make_agent()
    model.script.push_tool_call("send_message", {"message": "traced answer"})
    seen = len(model.llm.requests)

    messages = _turn(http, agent["id"], "trace me")

    step_id = next(m["step_id"] for m in messages if m["message_type"] == "assistant_message")
    resp = http.get(f"/v1/telemetry/{step_id}")
    assert resp.status_code == 200, resp.text
    trace = resp.json()
    assert trace["id"].startswith("provider_trace-") and trace["step_id"] == step_id
    assert trace["organization_id"] and trace["created_at"]
    sent = model.llm.requests[seen]
    assert trace["request_json"]["messages"] == sent["messages"]
    assert [t["function"]["name"] for t in trace["request_json"]["tools"]] == \
        [t["function"]["name"] for t in sent["tools"]]
    call = trace["response_json"]["choices"][0]["message"]["tool_calls"][0]["function"]
    assert call["name"] == "send_message" and json.loads(call["arguments"])["message"] == "traced answer"
    assert trace["response_json"]["usage"]["total_tokens"] > 0
    text = json.dumps(trace)
    assert "sk-test-scripted" not in text and "api_key" not in text and "api_base" not in text


def test_a_step_without_a_trace_is_a_404_naming_it(http):
    resp = http.get("/v1/telemetry/step-00000000-0000-4000-8000-000000000000")
    assert resp.status_code == 404 and "step-00000000-0000-4000-8000-000000000000" in resp.text


def test_a_steps_transaction_id_is_set_and_read_back(http, make_agent, model):
    agent = make_agent()
    model.script.push_tool_call("send_message", {"message": "ok"})
    step_id = _turn(http, agent["id"], "hello")[-1]["step_id"]

    resp = http.patch(f"/v1/steps/{step_id}/transaction/txn-42")

    assert resp.status_code == 200, resp.text
    assert resp.json()["id"] == step_id and resp.json()["tid"] == "txn-42"
    assert http.get(f"/v1/steps/{step_id}").json()["tid"] == "txn-42"
    missing = http.patch("/v1/steps/step-nope/transaction/txn-1")
    assert missing.status_code == 404 and "step-nope" in missing.text
    too_long = http.patch(f"/v1/steps/{step_id}/transaction/{'x' * 200}")
    assert too_long.status_code in (400, 422) and "transaction_id" in too_long.text


def test_metrics_count_the_turn_its_model_call_its_tool_call_and_the_request(http, make_agent, model):
    agent = make_agent()
    before = _samples(http.get("/metrics").text)
    model.script.push_tool_call("conversation_search", {"query": "x", "request_heartbeat": True})
    model.script.push_tool_call("send_message", {"message": "measured"})

    _turn(http, agent["id"], "measure me")

    resp = http.get("/metrics")
    assert resp.status_code == 200 and resp.headers["content-type"].startswith("text/plain")
    after = _samples(resp.text)

    def grew(name: str, **labels: str) -> float:
        return _value(after, name, **labels) - _value(before, name, **labels)

    assert grew("agenthost_turn_seconds_count", stop_reason="end_turn") >= 1
    assert grew("agenthost_model_call_seconds_count", model=model.name, outcome="ok") == 2
    assert grew("agenthost_tool_call_seconds_count", tool="send_message", status="success") >= 1
    assert grew("agenthost_tool_call_seconds_count", tool="conversation_search") >= 1
    assert grew("agenthost_http_requests_total", method="POST", route="/v1/agents/{agent_id}/messages",
                status="200") >= 1
    assert ("agenthost_mcp_servers", frozenset({("state", "ready")})) in after
    assert ("agenthost_runs_in_progress", frozenset()) in after


def test_metrics_are_behind_the_password_when_secure(make_server):
    import httpx

    srv = make_server({"SECURE": "true", "LETTA_SERVER_PASSWORD": "metrics-pw-123"})
    with httpx.Client(base_url=srv.base_url, timeout=60) as c:
        assert c.get("/metrics").status_code == 401
        resp = c.get("/metrics", headers={"Authorization": "Bearer metrics-pw-123"})
        assert resp.status_code == 200 and "agenthost_http_requests_total" in resp.text


def test_letta_client_reads_a_provider_trace(client, make_agent, model):
    agent = make_agent()
    model.script.push_tool_call("send_message", {"message": "via the sdk"})
    sent = client.agents.messages.create(agent_id=agent["id"], messages=[{"role": "user", "content": "sdk trace"}])
    step_id = sent.messages[-1].step_id

    trace = client.telemetry.retrieve_provider_trace(step_id=step_id)

    assert trace.step_id == step_id and trace.id.startswith("provider_trace-")
    assert trace.request_json["messages"][-1]["content"].endswith("sdk trace")
    assert trace.response_json["choices"][0]["message"]["tool_calls"][0]["function"]["name"] == "send_message"
