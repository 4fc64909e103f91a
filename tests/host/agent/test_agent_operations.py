"""Agent operations with the real letta-client SDK: ``preview-raw-payload`` is exactly what the model then
receives; ``summarize`` compacts the history to a model-written summary; ``files/close-all``."""

from __future__ import annotations

import json
import re

from letta_client import LettaRequest, MessageCreate

from tests.host.agent.conftest import send

MISSING = "agent-00000000-0000-4000-8000-000000000000"


_NOW_LINE = re.compile(r"- The current time is: [^\n]*")


def _minute_free(value):
    """The prompt's clock line reads the current minute, which may tick between the preview and the send;
    everything else (including when memory was last modified) must be the same text."""
    if isinstance(value, str):
        return _NOW_LINE.sub("- The current time is: <now>", value)
    if isinstance(value, list):
        return [_minute_free(v) for v in value]
    if isinstance(value, dict):
        return {k: _minute_free(v) for k, v in value.items()}
    return value


def test_preview_payload_is_what_the_model_then_receives(client, http, make_agent, model):
    agent = make_agent()
    send(http, agent["id"], "first turn")  # some history before the previewed turn
    before = len(model.requests)
    payload = client.agents.messages.preview_raw_payload(
        agent["id"], request=LettaRequest(messages=[MessageCreate(role="user", content="what is in the box?")]))
    assert len(model.requests) == before, "the preview sent a request to the model"
    assert payload["model"] == model.name
    assert "api_key" not in json.dumps(payload) and "timeout" not in payload

    model.script.push_tool_call("send_message", {"message": "a cat"})
    resp = send(http, agent["id"], "what is in the box?")
    assert resp.status_code == 200, resp.text
    received = model.requests[before]
    for key in ("model", "messages", "tools", "tool_choice", "temperature"):
        assert _minute_free(payload.get(key)) == _minute_free(received.get(key)), key
    assert set(payload) - {"max_tokens"} <= set(received) | {"max_tokens"}
    assert payload["messages"][-1] == {"role": "user", "content": "what is in the box?"}


def test_preview_and_summarize_errors_are_clear(http):
    resp = http.post(f"/v1/agents/{MISSING}/messages/preview-raw-payload",
                     json={"messages": [{"role": "user", "content": "x"}]})
    assert resp.status_code == 404 and MISSING in resp.text
    resp = http.post(f"/v1/agents/{MISSING}/summarize", params={"max_message_length": 2})
    assert resp.status_code == 404 and MISSING in resp.text
    resp = http.post(f"/v1/agents/{MISSING}/summarize")
    assert resp.status_code == 422 and "max_message_length" in resp.text
    resp = http.post(f"/v1/agents/{MISSING}/messages/preview-raw-payload", json={"messages": []})
    assert resp.status_code == 422 and "messages" in resp.text


def test_summarize_compacts_the_history_to_a_model_written_summary(client, http, make_agent, model):
    agent = make_agent()
    for i in range(4):
        assert send(http, agent["id"], f"fact number {i}: the sky is colour {i}").status_code == 200
    in_context = len(http.get(f"/v1/agents/{agent['id']}").json()["message_ids"])
    before = len(model.requests)
    model.script.push_text("SUMMARY: the user listed four sky colours.")
    state = client.agents.summarize_agent_conversation(agent["id"], max_message_length=3)

    assert len(model.requests) == before + 1  # one model call: the summary
    transcript = model.requests[before]["messages"][-1]["content"]
    assert "fact number 0" in transcript
    ids = state.message_ids
    assert len(ids) <= 1 + 1 + 3 < in_context  # system, summary, at most three kept
    kept = http.get(f"/v1/agents/{agent['id']}/messages", params={"limit": 1000}).json()
    by_id = {m["id"]: m for m in kept}
    summary = [by_id[i] for i in ids if i in by_id and "SUMMARY: the user listed" in json.dumps(by_id[i])]
    assert summary, "the summary message is not in context"

    # The next turn's prompt holds the summary and no longer the evicted turns.
    model.script.push_tool_call("send_message", {"message": "ok"})
    assert send(http, agent["id"], "go on").status_code == 200
    prompt = json.dumps(model.requests[-1]["messages"])
    assert "SUMMARY: the user listed four sky colours." in prompt
    assert "fact number 0" not in prompt

    # Nothing left to compact: no model call, the context unchanged.
    again = client.agents.summarize_agent_conversation(agent["id"], max_message_length=1000)
    assert again.message_ids == http.get(f"/v1/agents/{agent['id']}").json()["message_ids"]
    assert len(model.requests) == before + 2


def test_close_all_files_of_an_agent(client, http, make_agent):
    agent = make_agent()
    assert client.agents.close_all_open_files(agent["id"]) == []
    resp = http.patch(f"/v1/agents/{MISSING}/files/close-all")
    assert resp.status_code == 404 and MISSING in resp.text
