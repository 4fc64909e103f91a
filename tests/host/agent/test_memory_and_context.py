"""Memory tools, the recompiled system prompt, the context window (eviction + summary), autoclear, max_steps."""

from __future__ import annotations

import json
import time

from tests.host.agent.conftest import send


def test_a_memory_edit_is_in_the_system_prompt_of_the_next_model_call(http, make_agent, model):
    agent = make_agent()
    model.script.push_tool_call("core_memory_append", {"label": "human", "content": "Likes otters."})
    model.script.push_tool_call("send_message", {"message": "noted"})

    body = send(http, agent["id"], "I like otters").json()

    assert body["stop_reason"]["stop_reason"] == "end_turn" and body["usage"]["step_count"] == 2
    assert "Likes otters." not in model.system(0) and "Likes otters." in model.system(1)
    block = http.get(f"/v1/agents/{agent['id']}/core-memory/blocks/human").json()
    assert "Likes otters." in block["value"]
    system = http.get(f"/v1/agents/{agent['id']}/messages", params={"limit": 1000}).json()[0]
    assert system["message_type"] == "system_message" and "Likes otters." in system["content"]


def _modified(system: str) -> str:
    return next(line for line in system.splitlines() if line.startswith("- Memory blocks were last modified: "))


def test_the_prompt_says_when_memory_last_changed_not_when_it_was_compiled(http, make_agent, model):
    agent = make_agent()
    first = len(model.requests)
    assert send(http, agent["id"], "hello").status_code == 200
    time.sleep(1.1)  # the line has one-second resolution: a prompt compiled later must still say the same
    assert send(http, agent["id"], "again").status_code == 200
    assert _modified(model.system(first)) == _modified(model.system(first + 1))

    model.script.push_tool_call("core_memory_append", {"label": "human", "content": "Likes otters."})
    model.script.push_tool_call("send_message", {"message": "noted"})
    assert send(http, agent["id"], "I like otters").status_code == 200
    # the step after the edit sees a newer time, and so does the stored system message
    assert _modified(model.system(first + 3)) != _modified(model.system(first + 2))
    system = http.get(f"/v1/agents/{agent['id']}/messages", params={"limit": 1000}).json()[0]
    assert _modified(system["content"]) == _modified(model.system(first + 3))


def test_editing_a_read_only_block_is_an_error_the_model_sees(http, make_agent, model):
    agent = make_agent(memory_blocks=[{"label": "human", "value": "Name: Ada"},
                                      {"label": "policy", "value": "Be kind.", "read_only": True}])
    model.script.push_tool_call("core_memory_replace", {"label": "policy", "old_content": "Be kind.",
                                                         "new_content": "Be rude."})
    model.script.push_tool_call("send_message", {"message": "I cannot"})

    body = send(http, agent["id"]).json()

    ret = next(m for m in body["messages"] if m["message_type"] == "tool_return_message")
    assert ret["status"] == "error" and "read" in ret["tool_return"].lower()
    assert json.loads(model.requests[1]["messages"][-1]["content"])["status"] == "Failed"
    assert http.get(f"/v1/agents/{agent['id']}/core-memory/blocks/policy").json()["value"] == "Be kind."


def test_max_steps_stops_a_model_that_keeps_asking_for_more(http, make_agent, model):
    agent = make_agent()
    for _ in range(3):
        model.script.push_tool_call("conversation_search", {"query": "loop", "request_heartbeat": True})

    body = send(http, agent["id"], max_steps=2).json()

    assert body["stop_reason"]["stop_reason"] == "max_steps" and body["usage"]["step_count"] == 2
    model.script.push_tool_call("send_message", {"message": "ok"})  # the third scripted call is used next
    assert send(http, agent["id"]).status_code == 200


def test_a_small_context_window_evicts_old_messages_behind_a_summary(http, make_agent, model):
    agent = make_agent(context_window_limit=4000)
    filler = " ".join(f"word{i}" for i in range(250))
    for i in range(8):
        assert send(http, agent["id"], f"fact number {i} is platypus{i}. {filler}").status_code == 200

    ids = http.get(f"/v1/agents/{agent['id']}").json()["message_ids"]
    in_context = http.get(f"/v1/agents/{agent['id']}/messages", params={"limit": 1000}).json()
    by_id = {m["id"]: m for m in in_context}
    assert len(ids) < len(in_context), "old messages left the context but stay in the history"
    summary = by_id[ids[1]]
    assert "hidden from view" in summary["content"] and "conversation_search" in summary["content"]
    assert "platypus0" not in " ".join(str(by_id[i].get("content")) for i in ids[2:] if i in by_id)
    assert any("platypus0" in json.dumps(r["messages"]) for r in model.requests if not r.get("tools")), \
        "the evicted messages were sent to the model to summarise"

    config = {**http.get(f"/v1/agents/{agent['id']}").json()["llm_config"], "context_window": 32000}
    assert http.patch(f"/v1/agents/{agent['id']}", json={"llm_config": config}).status_code == 200  # no eviction now
    model.script.push_tool_call("conversation_search", {"query": "platypus0", "request_heartbeat": True})
    model.script.push_tool_call("send_message", {"message": "found it"})
    body = send(http, agent["id"], "what was fact 0?").json()
    ret = next(m for m in body["messages"] if m["message_type"] == "tool_return_message")
    assert "platypus0" in ret["tool_return"], "evicted messages stay searchable"


def test_message_buffer_autoclear_keeps_no_history_between_turns(http, make_agent, model):
    agent = make_agent(message_buffer_autoclear=True)
    send(http, agent["id"], "first secret")
    send(http, agent["id"], "second")

    second = model.requests[-1]["messages"]
    assert "first secret" not in json.dumps(second)
    assert [m["role"] for m in second] == ["system", "user"]
    assert http.get(f"/v1/agents/{agent['id']}").json()["message_ids"] == [agent["message_ids"][0]]


def test_the_context_endpoint_reports_each_section(http, make_agent, model):
    agent = make_agent()
    send(http, agent["id"], "count me")

    ctx = http.get(f"/v1/agents/{agent['id']}/context").json()

    assert ctx["num_tokens_system"] > 0 and ctx["num_tokens_core_memory"] > 0
    assert ctx["num_tokens_functions_definitions"] > 0 and ctx["num_tokens_messages"] > 0
    assert "Name: Ada" in ctx["core_memory"] and "send_message" in json.dumps(ctx["functions_definitions"])
    assert ctx["context_window_size_current"] == (
        ctx["num_tokens_system"] + ctx["num_tokens_core_memory"] + ctx["num_tokens_functions_definitions"]
        + ctx["num_tokens_messages"])
    assert ctx["num_messages"] == len(http.get(f"/v1/agents/{agent['id']}").json()["message_ids"])
    assert http.get("/v1/agents/agent-00000000-0000-0000-0000-000000000000/context").status_code == 404
