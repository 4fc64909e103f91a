"""The ``letta_v1_agent`` type (1.x clients' default) and client-side tools, over raw HTTP."""

from __future__ import annotations

import json
import uuid
from typing import Any

from tests.v1.test_shared_routes import EMBEDDING, V1

READ_FILE = {"name": "read_file", "description": "Read a file on the client's machine.",
             "parameters": {"type": "object", "properties": {"path": {"type": "string"}}, "required": ["path"]}}


def create(http: Any, model: str, headers: dict[str, str] | None = None) -> dict[str, Any]:
    body = {"model": f"openai-proxy/{model}", "embedding": EMBEDDING,
            "memory_blocks": [{"label": "human", "value": "The human's name is Chad."}]}
    response = http.post("/v1/agents/", json=body, headers=headers or {})
    assert response.status_code == 200, response.text
    return response.json()


def kinds(reply: dict[str, Any]) -> list[str]:
    return [m["message_type"] for m in reply["messages"]]


def test_1x_clients_get_letta_v1_agents_with_the_v1_base_tools_and_0_8_clients_memgpt_agents(http):
    model = f"v1a-{uuid.uuid4().hex[:6]}"
    new = create(http, model, V1)
    assert new["agent_type"] == "letta_v1_agent"
    assert sorted(t["name"] for t in new["tools"]) == ["conversation_search", "memory_insert", "memory_replace"]
    assert "send_message" not in new["system"]
    old = create(http, model)
    assert old["agent_type"] == "memgpt_agent" and "send_message" in {t["name"] for t in old["tools"]}


def test_a_v1_turn_calls_tools_without_heartbeats_until_the_model_answers_in_text(http, scripted_llm):
    model = f"v1a-{uuid.uuid4().hex[:6]}"
    agent = create(http, model, V1)["id"]
    scripted_llm.for_model(model).push_tool_call(
        "memory_insert", {"label": "human", "new_str": "Chad likes tea.", "insert_line": -1}
    ).push_text("Noted: you like tea.")
    reply = http.post(f"/v1/agents/{agent}/messages", headers=V1,
                      json={"messages": [{"role": "user", "content": "I like tea"}]}).json()
    assert kinds(reply) == ["tool_call_message", "tool_return_message", "assistant_message"]
    assert reply["messages"][-1]["content"] == "Noted: you like tea."
    assert reply["stop_reason"]["stop_reason"] == "end_turn" and reply["usage"]["step_count"] == 2
    sent = scripted_llm.requests_for(model)[-2:]
    assert all(r.get("tool_choice") == "auto" for r in sent)
    params = [json.dumps(t["function"]["parameters"]) for t in sent[0]["tools"]]
    assert not any("request_heartbeat" in p or "inner_thoughts" in p for p in params)
    blocks = http.get(f"/v1/agents/{agent}/core-memory/blocks/human").json()
    assert "Chad likes tea." in blocks["value"]


def test_a_client_tool_call_comes_back_as_an_approval_request_and_its_result_continues_the_turn(http, scripted_llm):
    model = f"v1a-{uuid.uuid4().hex[:6]}"
    agent = create(http, model, V1)["id"]
    queue = scripted_llm.for_model(model)
    queue.push_tool_call("read_file", {"path": "notes.txt"})
    paused = http.post(f"/v1/agents/{agent}/messages", headers=V1,
                       json={"messages": [{"role": "user", "content": "read notes.txt"}], "client_tools": [READ_FILE]})
    assert paused.status_code == 200, paused.text
    paused = paused.json()
    assert paused["stop_reason"]["stop_reason"] == "requires_approval"
    request = next(m for m in paused["messages"] if m["message_type"] == "approval_request_message")
    assert request["tool_call"]["name"] == "read_file" and request["tool_calls"] == [request["tool_call"]]
    offered = {t["function"]["name"] for t in scripted_llm.requests_for(model)[-1]["tools"]}
    assert "read_file" in offered

    queue.push_text("The notes say: buy milk.")
    answer = {"type": "approval", "approvals": [{"type": "tool", "tool_call_id": request["tool_call"]["tool_call_id"],
                                                  "tool_return": "buy milk", "status": "success"}]}
    done = http.post(f"/v1/agents/{agent}/messages", headers=V1,
                     json={"messages": [answer], "client_tools": [READ_FILE]})
    assert done.status_code == 200, done.text
    done = done.json()
    assert kinds(done) == ["tool_return_message", "assistant_message"]
    assert done["messages"][0]["tool_return"] == "buy milk" and done["messages"][0]["status"] == "success"
    assert done["messages"][1]["content"] == "The notes say: buy milk."
    last = scripted_llm.requests_for(model)[-1]["messages"]
    assert any(m["role"] == "tool" and "buy milk" in str(m["content"]) for m in last)


def test_an_incomplete_client_tool_result_is_a_422_naming_what_is_missing(http):
    agent = create(http, f"v1a-{uuid.uuid4().hex[:6]}", V1)["id"]
    bad = http.post(f"/v1/agents/{agent}/messages",
                    json={"messages": [{"type": "approval", "approvals": [{"type": "tool", "tool_call_id": "c1"}]}]})
    assert bad.status_code == 422 and "tool_return" in bad.text
