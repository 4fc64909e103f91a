"""The last Letta 0.16.8 operations: OpenAI chat completions answered by an agent (the `openai` SDK as the
client), a direct generation on an agent's model, a conversation compacted and its next request previewed,
and a Python tool written by a model; all through the real server and the scripted model."""

from __future__ import annotations

import json
import uuid
from typing import Any

import openai
import pytest

from tests.v1.test_sdk_flows import V1_PYTHON, drive
from tests.v1.test_shared_routes import EMBEDDING, V1
from tests.v1.test_v1_agent import create

MISSING_AGENT = "agent-123e4567-e89b-42d3-8456-426614174000"
MISSING_CONVERSATION = "conv-123e4567-e89b-42d3-8456-426614174000"
ADD = '''def add_numbers(a: int, b: int) -> int:
    """Add two numbers.

    Args:
        a: The first number.
        b: The second number.

    Returns:
        The sum.
    """
    return a + b
'''


def _model() -> str:
    return f"v1rc-{uuid.uuid4().hex[:6]}"


def _texts(request: dict[str, Any]) -> list[str]:
    return [m["content"] if isinstance(m["content"], str) else json.dumps(m["content"])
            for m in request["messages"] if m.get("content")]


def _in_context(http: Any, agent_id: str) -> list[str]:
    return http.get(f"/v1/agents/{agent_id}", headers=V1).json()["message_ids"]


# ---- POST /v1/chat/completions -----------------------------------------------------------------------------


def test_an_agent_answers_openai_chat_completions_streamed_and_not(http, server, scripted_llm):
    model = _model()
    agent = create(http, model, V1)["id"]
    oai = openai.OpenAI(base_url=f"{server.base_url}/v1", api_key="unused", max_retries=0)

    scripted_llm.for_model(model).push_text("Plain answer.")
    done = oai.chat.completions.create(model=agent, messages=[{"role": "system", "content": "be brief"},
                                                              {"role": "user", "content": "first question"}])
    assert done.object == "chat.completion" and done.model == agent
    assert done.choices[0].message.content == "Plain answer." and done.choices[0].finish_reason == "stop"
    assert done.usage is not None and done.usage.total_tokens > 0

    scripted_llm.for_model(model).push_text("Streamed answer.")
    chunks = list(oai.chat.completions.create(
        model=agent, stream=True, messages=[{"role": "user", "content": "first question"},
                                            {"role": "assistant", "content": "Plain answer."},
                                            {"role": "user", "content": "second question"}]))
    assert {c.object for c in chunks} == {"chat.completion.chunk"}
    assert "".join(c.choices[0].delta.content or "" for c in chunks) == "Streamed answer."
    assert chunks[-1].choices[0].finish_reason == "stop"

    users = [m["content"] for m in http.get(f"/v1/agents/{agent}/messages", params={"limit": 100}).json()
             if m["message_type"] == "user_message"]
    assert users[-2:] == ["first question", "second question"], "only the newest user message reaches the agent"


def test_chat_completions_name_an_unknown_agent_404_and_a_bad_body_422(http, server):
    oai = openai.OpenAI(base_url=f"{server.base_url}/v1", api_key="unused", max_retries=0)
    with pytest.raises(openai.NotFoundError):
        oai.chat.completions.create(model=MISSING_AGENT, messages=[{"role": "user", "content": "hi"}])
    not_agent = http.post("/v1/chat/completions", json={"model": "gpt-4o", "messages": [
        {"role": "user", "content": "hi"}]})
    assert not_agent.status_code == 422 and "not an agent id" in not_agent.text
    assert http.post("/v1/chat/completions", json={"messages": [{"role": "user", "content": "hi"}]}
                     ).status_code == 422
    assert http.post("/v1/chat/completions", json={"model": MISSING_AGENT, "messages": []}).status_code == 422


# ---- POST /v1/agents/{id}/generate -------------------------------------------------------------------------


def test_generate_answers_a_prompt_on_the_agents_model_and_writes_nothing(http, scripted_llm):
    model = _model()
    agent = create(http, model, V1)["id"]
    before = http.get(f"/v1/agents/{agent}/messages", params={"limit": 100}).json()

    scripted_llm.for_model(model).push_text("Forty-two.")
    got = http.post(f"/v1/agents/{agent}/generate", headers=V1,
                    json={"prompt": "What is six times seven?", "system_prompt": "Answer in words."})
    assert got.status_code == 200, got.text
    body = got.json()
    assert body["content"] == "Forty-two." and body["model"] == model
    assert body["usage"]["message_type"] == "usage_statistics" and body["usage"]["total_tokens"] > 0
    [sent] = scripted_llm.requests_for(model)
    assert [m["role"] for m in sent["messages"]] == ["system", "user"]
    assert _texts(sent) == ["Answer in words.", "What is six times seven?"]
    assert not sent.get("tools"), "no tools offered: the agent's memory and tools stay out"
    assert http.get(f"/v1/agents/{agent}/messages", params={"limit": 100}).json() == before

    scripted_llm.for_model(model).push_tool_call("structured_output", {"answer": 42, "unit": "none"})
    shaped = http.post(f"/v1/agents/{agent}/generate", headers=V1, json={
        "prompt": "Six times seven?", "response_schema": {
            "properties": {"answer": {"type": "integer"}, "unit": {"type": "string"}}, "required": ["answer"]}})
    assert shaped.status_code == 200, shaped.text
    assert json.loads(shaped.json()["content"]) == {"answer": 42, "unit": "none"}
    forced = scripted_llm.requests_for(model)[-1]
    assert forced["tool_choice"]["function"]["name"] == "structured_output"
    assert forced["tools"][0]["function"]["parameters"]["properties"]["answer"] == {"type": "integer"}

    other = _model()
    scripted_llm.for_model(other).push_text("From the other model.")
    overridden = http.post(f"/v1/agents/{agent}/generate", json={"prompt": "hi",
                                                                  "override_model": f"openai-proxy/{other}"})
    assert overridden.status_code == 200, overridden.text
    assert overridden.json() | {"usage": None} == {"content": "From the other model.", "model": other, "usage": None}
    assert len(scripted_llm.requests_for(other)) == 1


def test_generate_is_a_404_for_an_unknown_agent_a_422_for_a_bad_body_and_a_502_when_the_model_fails(
        http, scripted_llm):
    model = _model()
    agent = create(http, model, V1)["id"]
    assert http.post(f"/v1/agents/{MISSING_AGENT}/generate", json={"prompt": "hi"}).status_code == 404
    assert http.post(f"/v1/agents/{agent}/generate", json={"prompt": ""}).status_code == 422
    assert http.post(f"/v1/agents/{agent}/generate", json={}).status_code == 422
    unknown = http.post(f"/v1/agents/{agent}/generate", json={"prompt": "hi", "override_model": "nope/never"})
    assert unknown.status_code == 422 and "nope/never" in unknown.text
    no_props = http.post(f"/v1/agents/{agent}/generate", json={"prompt": "hi", "response_schema": {"type": "x"}})
    assert no_props.status_code == 422 and "properties" in no_props.text
    scripted_llm.for_model(model).push_error(400, "the provider refused")
    failed = http.post(f"/v1/agents/{agent}/generate", json={"prompt": "hi"})
    assert failed.status_code == 502 and model in failed.text


# ---- POST /v1/conversations/{id}/compact and messages/preview-raw-payload ---------------------------------


def _turns(http: Any, scripted_llm: Any, model: str, agent: str, n: int) -> None:
    for i in range(n):
        scripted_llm.for_model(model).push_text(f"answer {i}")
        sent = http.post(f"/v1/agents/{agent}/messages", headers=V1,
                         json={"messages": [{"role": "user", "content": f"question {i}"}]})
        assert sent.status_code == 200, sent.text


def test_a_conversation_is_compacted_to_a_summary_of_its_agents_context(http, scripted_llm):
    model = _model()
    agent = create(http, model, V1)["id"]
    conv = http.post("/v1/conversations/", params={"agent_id": agent}, headers=V1, json={}).json()["id"]
    _turns(http, scripted_llm, model, agent, 4)
    before = _in_context(http, agent)

    scripted_llm.for_model(model).push_text("They asked four questions.")
    done = http.post(f"/v1/conversations/{conv}/compact", headers=V1, json={})
    assert done.status_code == 200, done.text
    body = done.json()
    assert body["summary"] == "They asked four questions."
    assert body["num_messages_before"] == len(before) and body["num_messages_after"] < len(before)
    after = _in_context(http, agent)
    assert len(after) == body["num_messages_after"]
    assert after[0] == before[0] and after[-1] == before[-1], "the system prompt and the newest turn stay"
    summarizer = scripted_llm.requests_for(model)[-1]
    assert "question 0" in summarizer["messages"][-1]["content"], "the model summarized the evicted turns"

    # "all" mode, agent-direct ("default" + agent_id): everything but the system prompt becomes one summary.
    scripted_llm.for_model(model).push_text("Everything, summarized.")
    direct = http.post("/v1/conversations/default/compact", headers=V1,
                       json={"agent_id": agent, "compaction_settings": {"mode": "all"}})
    assert direct.status_code == 200, direct.text
    assert direct.json()["summary"] == "Everything, summarized." and direct.json()["num_messages_after"] == 2
    assert len(_in_context(http, agent)) == 2

    # Nothing left that would shorten the context: a 400, nothing written, no model call.
    calls = len(scripted_llm.requests_for(model))
    again = http.post(f"/v1/conversations/{agent}/compact", headers=V1, json={"compaction_settings": {"mode": "all"}})
    assert again.status_code == 400 and "failed to reduce" in again.text
    assert len(scripted_llm.requests_for(model)) == calls and len(_in_context(http, agent)) == 2


def test_compact_is_a_404_for_unknown_ids_and_a_422_for_a_bad_body(http):
    agent = create(http, _model(), V1)["id"]
    for path, body in ((MISSING_CONVERSATION, {}), (MISSING_AGENT, {}), ("default", {"agent_id": MISSING_AGENT})):
        assert http.post(f"/v1/conversations/{path}/compact", json=body).status_code == 404, path
    assert http.post("/v1/conversations/default/compact", json={}).status_code == 422
    bad_mode = http.post(f"/v1/conversations/{agent}/compact", json={"compaction_settings": {"mode": "half"}})
    assert bad_mode.status_code == 422


@pytest.mark.skipif(V1_PYTHON is None, reason="no venv with letta-client 1.x (see .ci/run)")
def test_the_1x_sdk_compacts_a_conversation_and_raises_404_and_422(server, scripted_llm):
    model = _model()
    for i in range(3):
        scripted_llm.for_model(model).push_text(f"answer {i}")
    scripted_llm.for_model(model).push_text("Three questions were asked.")
    out = drive(server, "compact", model=f"openai-proxy/{model}", embedding=EMBEDDING, turns=3,
                missing_conversation=MISSING_CONVERSATION)
    assert out["compacted"] == {"summary": "Three questions were asked.", "num_messages_before": out["before"],
                                "num_messages_after": out["after"]}
    assert out["after"] < out["before"]
    assert (out["missing"]["raised"], out["missing"]["status"]) == ("NotFoundError", 404)
    assert (out["bad_mode"]["raised"], out["bad_mode"]["status"]) == ("UnprocessableEntityError", 422)


def test_a_conversations_next_request_is_previewed_without_sending_it(http, scripted_llm):
    model = _model()
    agent = create(http, model, V1)["id"]
    conv = http.post("/v1/conversations/", params={"agent_id": agent}, headers=V1, json={}).json()["id"]
    _turns(http, scripted_llm, model, agent, 1)
    calls, stored = len(scripted_llm.requests_for(model)), _in_context(http, agent)

    got = http.post(f"/v1/conversations/{conv}/messages/preview-raw-payload", headers=V1,
                    json={"messages": [{"role": "user", "content": "the previewed question"}]})
    assert got.status_code == 200, got.text
    payload = got.json()
    assert payload["model"] == model
    contents = [str(m.get("content")) for m in payload["messages"]]
    assert "Chad" in contents[0], "the agent's system prompt with its memory comes first"
    assert "question 0" in " ".join(contents) and "the previewed question" in contents[-1]
    assert len(scripted_llm.requests_for(model)) == calls and _in_context(http, agent) == stored

    direct = http.post("/v1/conversations/default/messages/preview-raw-payload", headers=V1,
                       json={"agent_id": agent, "messages": [{"role": "user", "content": "direct"}]})
    assert direct.status_code == 200 and "direct" in str(direct.json()["messages"][-1]["content"])
    assert http.post(f"/v1/conversations/{MISSING_CONVERSATION}/messages/preview-raw-payload",
                     json={"messages": [{"role": "user", "content": "x"}]}).status_code == 404
    assert http.post(f"/v1/conversations/{conv}/messages/preview-raw-payload", json={"messages": []}
                     ).status_code == 422


# ---- POST /v1/tools/generate-tool --------------------------------------------------------------------------


def test_a_model_writes_a_tool_that_is_parsed_into_its_schema_and_not_saved(http, scripted_llm):
    model = _model()
    scripted_llm.for_model(model).push_tool_call("generate_tool", {
        "raw_source_code": ADD, "sample_args_json": '{"a": 2, "b": 3}', "pip_requirements_json": '{"numpy": ""}'},
        content="Here is the tool.")
    got = http.post("/v1/tools/generate-tool", headers=V1, json={
        "tool_name": "add_numbers", "prompt": "add two numbers", "handle": f"openai-proxy/{model}",
        "validation_errors": ["missing docstring"]})
    assert got.status_code == 200, got.text
    body = got.json()
    assert body["response"] == "Here is the tool." and body["sample_args"] == {"a": 2, "b": 3}
    tool = body["tool"]
    assert tool["name"] == "add_numbers" and tool["source_code"] == ADD and tool["source_type"] == "python"
    assert tool["json_schema"]["name"] == "add_numbers"
    assert tool["json_schema"]["parameters"]["properties"]["a"]["type"] == "integer"
    assert tool["json_schema"]["parameters"]["required"] == ["a", "b"]
    assert tool["pip_requirements"] == [{"name": "numpy", "version": None}]
    [asked] = scripted_llm.requests_for(model)
    assert asked["tool_choice"]["function"]["name"] == "generate_tool"
    assert "add_numbers" in asked["messages"][-1]["content"] and "missing docstring" in asked["messages"][-1]["content"]
    assert http.get("/v1/tools/", params={"name": "add_numbers"}).json() == [], "generated, not saved"

    # No handle: the first model the server lists writes it.
    first = http.get("/v1/models/").json()[0]
    scripted_llm.for_model(first["model"]).push_tool_call("generate_tool", {
        "raw_source_code": ADD, "sample_args_json": "{}", "pip_requirements_json": "{}"})
    default = http.post("/v1/tools/generate-tool", json={"tool_name": "add_numbers", "prompt": "add",
                                                         "validation_errors": []})
    assert default.status_code == 200, default.text
    assert default.json()["tool"]["json_schema"]["name"] == "add_numbers" and default.json()["sample_args"] == {}


def test_a_generated_tool_that_does_not_parse_is_a_400_naming_why(http, scripted_llm):
    model = _model()
    scripted_llm.for_model(model).push_tool_call("generate_tool", {
        "raw_source_code": "def add_numbers(a, b):\n    return a + b\n", "sample_args_json": "{}",
        "pip_requirements_json": "{}"})
    got = http.post("/v1/tools/generate-tool", json={"tool_name": "add_numbers", "prompt": "add",
                                                     "handle": f"openai-proxy/{model}", "validation_errors": []})
    assert got.status_code == 400 and "docstring" in got.text and "add_numbers" in got.text

    scripted_llm.for_model(model).push_text("I would rather not.")
    refused = http.post("/v1/tools/generate-tool", json={"tool_name": "add_numbers", "prompt": "add",
                                                         "handle": f"openai-proxy/{model}", "validation_errors": []})
    assert refused.status_code == 502 and "generate_tool" in refused.text

    assert http.post("/v1/tools/generate-tool", json={"tool_name": "x", "prompt": "add"}).status_code == 422
    assert http.post("/v1/tools/generate-tool", json={"tool_name": "not a name", "prompt": "add",
                                                      "validation_errors": []}).status_code == 422
    unknown = http.post("/v1/tools/generate-tool", json={"tool_name": "x", "prompt": "add", "handle": "nope/never",
                                                         "validation_errors": []})
    assert unknown.status_code == 422 and "nope/never" in unknown.text
