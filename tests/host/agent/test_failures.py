"""Failure paths of a turn: bad model output, provider errors, tool errors, disconnects, concurrency."""

from __future__ import annotations

import json
import textwrap
import threading

import anyio
import httpx
import pytest

from tests.host.agent.conftest import history, send, sse_events
from tests.support.waiting import wait_until


def test_garbage_from_the_model_is_a_502_naming_the_model_and_writes_nothing(http, make_agent, model):
    agent = make_agent()
    before = len(history(http, agent["id"]))
    model.script.push_garbage()

    resp = send(http, agent["id"], "hi")

    assert resp.status_code == 502, resp.text
    assert model.name in resp.json()["detail"] and "not valid JSON" in resp.json()["detail"]
    assert len(history(http, agent["id"])) == before, "the user message is not half-written"


@pytest.mark.parametrize("stream", [False, True])
def test_a_provider_500_is_a_json_error_with_the_providers_message(http, make_agent, model, stream):
    agent = make_agent()
    before = len(history(http, agent["id"]))
    model.script.push_error(500, "the GPUs are on fire")

    path = "/messages/stream" if stream else "/messages"
    resp = http.post(f"/v1/agents/{agent['id']}{path}", json={"messages": [{"role": "user", "content": "x"}]})

    assert resp.status_code == 502 and resp.headers["content-type"] == "application/json", resp.text
    assert "the GPUs are on fire" in resp.json()["detail"]
    assert len(history(http, agent["id"])) == before
    assert send(http, agent["id"], "again").status_code == 200, "the agent still works"


def test_an_error_after_the_first_streamed_step_arrives_in_band(http, client, make_agent, model):
    agent = make_agent()
    model.script.push_tool_call("conversation_search", {"query": "x", "request_heartbeat": True})
    model.script.push_error(503, "overloaded")

    resp = http.post(f"/v1/agents/{agent['id']}/messages/stream",
                     json={"messages": [{"role": "user", "content": "x"}]})

    events = sse_events(resp.text)
    error = next((ev, d) for ev, d in events if d != "[DONE]" and d["message_type"] == "error_message")
    assert error[0] == "error" and "overloaded" in error[1]["message"] and error[1]["run_id"].startswith("run-")
    assert events[-2][1] == {"message_type": "stop_reason", "stop_reason": "error"} and events[-1][1] == "[DONE]"
    run = http.get(f"/v1/runs/{error[1]['run_id']}").json()
    assert run["status"] == "failed" and run["stop_reason"] == "error"
    # the SDK reads the same stream without breaking
    model.script.push_tool_call("conversation_search", {"query": "x", "request_heartbeat": True})
    model.script.push_error(503, "overloaded again")
    chunks = list(client.agents.messages.create_stream(agent_id=agent["id"],
                                                       messages=[{"role": "user", "content": "y"}]))
    assert [c.message_type for c in chunks][-2:] == ["error_message", "stop_reason"]
    assert "overloaded again" in chunks[-2].message


def test_plain_text_without_a_tool_call_ends_the_turn_as_the_answer(http, make_agent, model):
    agent = make_agent()
    model.script.push_text("just words")

    body = send(http, agent["id"]).json()

    assert [m["message_type"] for m in body["messages"]] == ["assistant_message"]
    assert body["messages"][0]["content"] == "just words"
    assert body["stop_reason"]["stop_reason"] == "end_turn"


def test_invalid_tool_arguments_are_reported_to_the_model_and_the_turn_goes_on(http, make_agent, model):
    agent = make_agent()
    model.script.push_tool_call("no_such_tool", {"a": 1})
    model.script.push_tool_call("send_message", {"message": "recovered"})

    body = send(http, agent["id"]).json()

    ret = next(m for m in body["messages"] if m["message_type"] == "tool_return_message")
    assert ret["status"] == "error" and "does not exist" in ret["tool_return"]
    assert body["messages"][-1]["content"] == "recovered"


def test_a_custom_tool_that_raises_is_an_error_return_and_the_turn_continues(http, make_agent, model):
    source = textwrap.dedent('''
        def explode_now(reason: str) -> str:
            """Always fails.

            Args:
                reason (str): Why.
            """
            raise ValueError("kaboom: " + reason)
    ''').lstrip()
    tool = http.post("/v1/tools/", json={"source_code": source})
    assert tool.status_code == 200, tool.text
    agent = make_agent(tool_ids=[tool.json()["id"]])
    model.script.push_tool_call("explode_now", {"reason": "testing"})
    model.script.push_tool_call("send_message", {"message": "that failed"})

    body = send(http, agent["id"]).json()

    ret = next(m for m in body["messages"] if m["message_type"] == "tool_return_message")
    assert ret["status"] == "error" and "kaboom: testing" in ret["tool_return"]
    assert body["messages"][-1]["content"] == "that failed" and body["usage"]["step_count"] == 2
    assert json.loads(model.requests[1]["messages"][-1]["content"])["status"] == "Failed"
    http.delete(f"/v1/tools/{tool.json()['id']}")


def test_nul_characters_from_the_model_and_a_tool_are_stored_as_replacement_characters(http, make_agent, model):
    """A NUL is data in a turn, not an error (Postgres cannot store it): it becomes U+FFFD."""
    source = textwrap.dedent('''
        def nul_maker(text: str) -> str:
            """Returns text with a NUL in it.

            Args:
                text (str): The text.
            """
            return text + chr(0) + "end"
    ''').lstrip()
    tool = http.post("/v1/tools/", json={"source_code": source})
    assert tool.status_code == 200, tool.text
    agent = make_agent(tool_ids=[tool.json()["id"]])
    model.script.push_tool_call("core_memory_append", {"label": "human", "content": "likes\u0000tea",
                                                       "request_heartbeat": True})
    model.script.push_tool_call("nul_maker", {"text": "made", "request_heartbeat": True})
    model.script.push_tool_call("send_message", {"message": "a\u0000b"})

    resp = send(http, agent["id"], "go")

    assert resp.status_code == 200, resp.text
    body = resp.json()
    assert body["usage"]["step_count"] == 3 and body["messages"][-1]["content"] == "a\ufffdb"
    ret = [m for m in body["messages"] if m["message_type"] == "tool_return_message"][-1]
    assert ret["status"] == "success" and "made\ufffdend" in ret["tool_return"]
    stored = history(http, agent["id"])
    assert "\x00" not in json.dumps(stored, ensure_ascii=False) and "made\ufffdend" in json.dumps(stored,
                                                                                                ensure_ascii=False)
    block = http.get(f"/v1/agents/{agent['id']}/core-memory/blocks/human").json()
    assert "likes\ufffdtea" in block["value"]
    http.delete(f"/v1/tools/{tool.json()['id']}")


def test_a_client_disconnecting_mid_stream_leaves_the_agent_consistent(server, http, make_agent, model):
    agent = make_agent()
    before = len(history(http, agent["id"]))
    model.script.push_tool_call("conversation_search", {"query": "x", "request_heartbeat": True})
    model.script.push_delay(30)  # step 2 hangs until the client has gone
    model.script.push_tool_call("send_message", {"message": "never seen"})
    seen = len(model.llm.requests)

    with httpx.Client(base_url=server.base_url, timeout=30) as c:
        with c.stream("POST", f"/v1/agents/{agent['id']}/messages/stream",
                      json={"messages": [{"role": "user", "content": "x"}]}) as resp:
            for line in resp.iter_lines():
                if '"tool_return_message"' in line:
                    model.llm.wait_for_requests(seen + 2)  # step 2's model call is in flight
                    break  # hang up
    run = http.get("/v1/runs/", params={"agent_ids": [agent["id"]]}).json()[0]
    wait_until(lambda: http.get(f"/v1/runs/{run['id']}").json()["status"] not in ("created", "running"))
    assert http.get(f"/v1/runs/{run['id']}").json()["status"] == "cancelled"

    after = history(http, agent["id"])
    types = [m["message_type"] for m in after[before:]]
    assert types == ["user_message", "tool_call_message", "tool_return_message"], "step 1 kept, step 2 not written"
    assert send(http, agent["id"], "still there?").status_code == 200


def test_a_hundred_concurrent_messages_to_one_agent_are_serialized(server, http, make_agent):
    agent = make_agent()
    before = len(history(http, agent["id"]))
    results: list[int] = []

    async def main() -> None:
        async with httpx.AsyncClient(base_url=server.base_url, timeout=120) as c:
            async def one(i: int) -> None:
                r = await c.post(f"/v1/agents/{agent['id']}/messages",
                                 json={"messages": [{"role": "user", "content": f"msg {i}"}]})
                results.append(r.status_code)

            async with anyio.create_task_group() as tg:
                for i in range(100):
                    tg.start_soon(one, i)

    anyio.run(main)
    assert results == [200] * 100
    turns = history(http, agent["id"])[before:]
    assert len(turns) == 300, "user, reasoning, assistant per turn"
    for i in range(0, 300, 3):
        user, thought, said = turns[i:i + 3]
        assert user["message_type"] == "user_message" and said["message_type"] == "assistant_message"
        assert said["content"] == user["content"], "each answer directly follows its own question"
    assert sorted(int(m["content"].split()[1]) for m in turns[::3]) == list(range(100))


def test_different_agents_run_their_turns_in_parallel(server, make_agent, model):
    agents = [make_agent() for _ in range(3)]
    for _ in agents:  # every reply is held 2 s: only parallel turns get all three requests in first
        model.script.push_delay(2.0)
        model.script.push_tool_call("send_message", {"message": "done"})
    seen = len(model.llm.requests)
    statuses: list[int] = []

    def one(agent_id: str) -> None:
        statuses.append(httpx.post(f"{server.base_url}/v1/agents/{agent_id}/messages", timeout=30,
                                   json={"messages": [{"role": "user", "content": "par"}]}).status_code)

    threads = [threading.Thread(target=one, args=(a["id"],)) for a in agents]
    for t in threads:
        t.start()
    model.llm.wait_for_requests(seen + 3, timeout=1.5)
    for t in threads:
        t.join(timeout=30)
    assert statuses == [200, 200, 200]


def test_a_provider_that_times_out_is_a_json_error_and_writes_nothing(make_server, scripted_llm, model):
    srv = make_server({"LETTA_LLM_TIMEOUT_SECONDS": "2"})
    with httpx.Client(base_url=srv.base_url, timeout=60) as c:
        created = c.post("/v1/agents/", json={"model": model.handle, "embedding": "openai/text-embedding-3-small"})
        assert created.status_code == 200, created.text
        agent_id = created.json()["id"]

        def turn(text: str) -> httpx.Response:
            return c.post(f"/v1/agents/{agent_id}/messages", json={"messages": [{"role": "user", "content": text}]})

        # A fresh server does seconds of one-time work (imports) around its first model calls; on a busy machine
        # that alone can outlast a 2 s deadline before the request is even sent. Get past it first, so that the
        # timeout below is the provider's and the scripted delay is taken by the request it was meant for.
        wait_until(lambda: turn("warm up").status_code == 200, timeout=120, what="a first turn within the deadline")
        before = len(c.get(f"/v1/agents/{agent_id}/messages", params={"limit": 100}).json())
        sent = len(model.requests)
        model.script.push_delay(30)  # far beyond the deadline (cut short when the scripted LLM stops)

        resp = turn("slow")

        assert resp.status_code == 502, resp.text
        assert "timed out" in resp.json()["detail"].lower() or "timeout" in resp.json()["detail"].lower()
        assert len(model.requests) == sent + 1, "the request reached the provider, which did not answer in time"
        assert len(c.get(f"/v1/agents/{agent_id}/messages", params={"limit": 100}).json()) == before
        ok = turn("again")
        assert ok.status_code == 200, f"the agent still works after the timeout: {ok.text}"
