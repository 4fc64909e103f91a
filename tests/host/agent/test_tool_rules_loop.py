"""Tool rules enforced by the loop, end to end through REST: the tools offered each step, refusals, approval."""

from __future__ import annotations

import json
import textwrap

import pytest

from tests.host.agent.conftest import send

SEARCH, ARCH_SEARCH, ARCH_INSERT, SEND = "conversation_search", "archival_memory_search", "archival_memory_insert", \
    "send_message"
BASE = sorted([SEND, SEARCH, ARCH_INSERT, ARCH_SEARCH, "core_memory_append", "core_memory_replace"])


def _forced(model, i: int) -> str | None:
    choice = model.requests[i].get("tool_choice")
    return choice["function"]["name"] if isinstance(choice, dict) else None


def test_an_init_child_terminal_chain_offers_exactly_the_allowed_tool_each_step(http, make_agent, model):
    agent = make_agent(tool_rules=[
        {"type": "run_first", "tool_name": SEARCH},
        {"type": "constrain_child_tools", "tool_name": SEARCH, "children": [ARCH_SEARCH]},
        {"type": "constrain_child_tools", "tool_name": ARCH_SEARCH, "children": [SEND]},
        {"type": "exit_loop", "tool_name": SEND}])
    model.script.push_tool_call(SEARCH, {"query": "a"})  # no heartbeat asked: the child rule continues
    model.script.push_tool_call(ARCH_SEARCH, {"query": "b"})
    model.script.push_tool_call(SEND, {"message": "done"})

    body = send(http, agent["id"]).json()

    assert body["stop_reason"]["stop_reason"] == "end_turn" and body["usage"]["step_count"] == 3
    assert [model.offered(i) for i in range(3)] == [[SEARCH], [ARCH_SEARCH], [SEND]]
    assert [_forced(model, i) for i in range(3)] == [SEARCH, ARCH_SEARCH, SEND]
    assert "request_heartbeat" not in json.dumps(model.requests[2]["tools"]), "terminal tools need no heartbeat"
    system = model.system(0)
    assert "<tool_usage_rules>" in system and SEARCH in system.split("<tool_usage_rules>")[1]


def test_a_call_outside_the_allowed_set_is_refused_and_the_model_told_why(http, make_agent, model):
    agent = make_agent(tool_rules=[{"type": "run_first", "tool_name": SEARCH}])
    model.script.push_tool_call(SEND, {"message": "skipping the rules"})
    model.script.push_tool_call(SEARCH, {"query": "fine"})
    model.script.push_tool_call(SEND, {"message": "now ok"})

    body = send(http, agent["id"]).json()

    refused = next(m for m in body["messages"] if m["message_type"] == "tool_return_message")
    assert refused["status"] == "error" and "Tool rule violation" in refused["tool_return"]
    assert SEARCH in refused["tool_return"], "the refusal names the allowed tools"
    assert model.offered(0) == model.offered(1) == [SEARCH], "nothing was recorded: still the first call"
    assert body["messages"][-1]["content"] == "now ok" and body["stop_reason"]["stop_reason"] == "end_turn"


def test_max_count_per_step_removes_a_tool_at_its_limit(http, make_agent, model):
    agent = make_agent(tool_rules=[{"type": "max_count_per_step", "tool_name": SEARCH, "max_count_limit": 1}])
    model.script.push_tool_call(SEARCH, {"query": "once", "request_heartbeat": True})
    model.script.push_tool_call(SEND, {"message": "done"})

    send(http, agent["id"])

    assert SEARCH in model.offered(0) and SEARCH not in model.offered(1)
    assert model.offered(1) == [t for t in BASE if t != SEARCH]


def test_required_before_exit_hides_the_terminal_tool_until_the_required_call(http, make_agent, model):
    agent = make_agent(tool_rules=[{"type": "required_before_exit", "tool_name": ARCH_INSERT}])
    model.script.push_tool_call(SEARCH, {"query": "x"})  # would let the model stop: the rules continue
    model.script.push_tool_call(ARCH_INSERT, {"content": "a note"})
    model.script.push_tool_call(SEND, {"message": "bye"})

    body = send(http, agent["id"]).json()

    assert SEND not in model.offered(0) and SEND not in model.offered(1) and SEND in model.offered(2)
    first = next(m for m in body["messages"] if m["message_type"] == "tool_return_message")
    assert ARCH_INSERT in first["tool_return"], "the model is told what it must still call"
    assert body["stop_reason"]["stop_reason"] == "end_turn"


def test_when_the_rules_allow_no_tool_the_turn_ends_with_stop_reason_tool_rule(http, make_agent, model):
    agent = make_agent(tool_rules=[
        {"type": "constrain_child_tools", "tool_name": SEARCH, "children": [ARCH_SEARCH]},
        {"type": "constrain_child_tools", "tool_name": ARCH_SEARCH, "children": [SEARCH]},
        {"type": "max_count_per_step", "tool_name": SEARCH, "max_count_limit": 1}])
    model.script.push_tool_call(SEARCH, {"query": "a"})
    model.script.push_tool_call(ARCH_SEARCH, {"query": "b"})

    body = send(http, agent["id"]).json()

    assert body["stop_reason"]["stop_reason"] == "tool_rule" and body["usage"]["step_count"] == 2
    assert len(model.requests) == 2


def test_a_conditional_rule_picks_the_next_tool_from_the_output(http, make_agent, model):
    source = textwrap.dedent('''
        def flip(side: str) -> str:
            """Return the side it is given.

            Args:
                side (str): heads or tails.
            """
            return side
    ''').lstrip()
    tool = http.post("/v1/tools/", json={"source_code": source}).json()
    agent = make_agent(tool_ids=[tool["id"]], tool_rules=[
        {"type": "conditional", "tool_name": "flip", "child_output_mapping": {"heads": ARCH_SEARCH, "tails": SEARCH}}])
    model.script.push_tool_call("flip", {"side": "tails"})
    model.script.push_tool_call(SEARCH, {"query": "after tails"})
    model.script.push_tool_call(SEND, {"message": "done"})

    send(http, agent["id"])

    assert model.offered(1) == [SEARCH] and _forced(model, 1) == SEARCH
    http.delete(f"/v1/tools/{tool['id']}")


@pytest.mark.parametrize("approve", [True, False])
def test_a_tool_requiring_approval_pauses_the_turn_until_the_client_answers(http, make_agent, model, approve):
    agent = make_agent(tool_rules=[{"type": "requires_approval", "tool_name": ARCH_INSERT}])
    model.script.push_tool_call(ARCH_INSERT, {"content": "approved fact", "request_heartbeat": True})

    paused = send(http, agent["id"], "save it").json()

    assert paused["stop_reason"]["stop_reason"] == "requires_approval"
    request = paused["messages"][-1]
    assert request["message_type"] == "approval_request_message" and request["tool_call"]["name"] == ARCH_INSERT
    assert http.get(f"/v1/agents/{agent['id']}/archival-memory").json() == []
    blocked = send(http, agent["id"], "hello?")
    assert blocked.status_code == 409 and request["id"] in blocked.json()["detail"]

    model.script.push_tool_call(SEND, {"message": "finished"})
    answer = {"type": "approval", "approve": approve, "approval_request_id": request["id"], "reason": "not today"}
    body = http.post(f"/v1/agents/{agent['id']}/messages", json={"messages": [answer]}).json()

    ret = body["messages"][0]
    assert ret["message_type"] == "tool_return_message" and ret["tool_call_id"] == request["tool_call"]["tool_call_id"]
    assert body["messages"][-1]["content"] == "finished" and body["stop_reason"]["stop_reason"] == "end_turn"
    passages = http.get(f"/v1/agents/{agent['id']}/archival-memory").json()
    if approve:
        assert ret["status"] == "success" and [p["text"] for p in passages] == ["approved fact"]
    else:
        assert ret["status"] == "error" and "not today" in ret["tool_return"] and passages == []
        assert "not today" in model.requests[-1]["messages"][-1]["content"], "the model sees the reason"
    assert send(http, agent["id"], "and now?").status_code == 200


def test_an_approval_with_nothing_pending_or_a_wrong_id_is_refused(http, make_agent, model):
    agent = make_agent()
    answer = {"type": "approval", "approve": True, "approval_request_id": "message-nope"}
    resp = http.post(f"/v1/agents/{agent['id']}/messages", json={"messages": [answer]})
    assert resp.status_code == 409, resp.text


def test_the_rule_graph_endpoint_draws_the_agents_rules(http, make_agent):
    agent = make_agent(tool_rules=[
        {"type": "run_first", "tool_name": SEARCH},
        {"type": "constrain_child_tools", "tool_name": SEARCH, "children": [SEND]}])

    graph = http.get(f"/v1/agents/{agent['id']}/tool-rules/graph").json()

    assert set(graph) == {"mermaid", "nodes", "edges", "warnings"}
    assert graph["mermaid"].startswith("flowchart TD")
    assert {"source": SEARCH, "target": SEND} in [{k: e[k] for k in ("source", "target")} for e in graph["edges"]]
    assert next(n for n in graph["nodes"] if n["id"] == SEARCH)["kind"] == "init"
    assert http.get("/v1/agents/agent-00000000-0000-0000-0000-000000000000/tool-rules/graph").status_code == 404
