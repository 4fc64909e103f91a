"""Nothing stuck after a crash: a server killed (SIGKILL) during turns leaves no run `running` once a server
is back on the data, and every agent takes a new turn. On SQLite the restarted server closes them at
start-up; on Postgres (several servers may share it) they are closed once their lease expires. An async run
that had written nothing is run again instead, exactly once."""

from __future__ import annotations

import os
import signal
import threading
import uuid

import httpx

from tests import conftest as shared
from tests.conftest import PG_ADMIN_URI
from tests.host.agent.conftest import EMBEDDING
from tests.support.waiting import wait_until

LEASE = {"AGENTHOST_RUN_LEASE_SECONDS": "2", "AGENTHOST_RUN_RENEW_SECONDS": "0.5"}


def _stream_in_background(base_url: str, agent_id: str, seen: list[bytes]) -> threading.Thread:
    def run() -> None:
        try:
            with httpx.stream("POST", f"{base_url}/v1/agents/{agent_id}/messages/stream", timeout=120,
                              json={"messages": [{"role": "user", "content": "go"}]}) as resp:
                for chunk in resp.iter_bytes():
                    seen.append(chunk)
        except httpx.HTTPError:
            pass  # the server was killed under it

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread


def _async(base_url: str, agent_id: str, text: str) -> dict:
    resp = httpx.post(f"{base_url}/v1/agents/{agent_id}/messages/async", timeout=60,
                      json={"messages": [{"role": "user", "content": text}]})
    assert resp.status_code == 200, resp.text
    return resp.json()


def test_runs_interrupted_by_a_killed_server_are_closed_and_agents_take_new_turns(make_server, scripted_llm,
                                                                                    tmp_path):
    """Streamed runs and an async run that wrote a step are closed as failed; an async run that wrote
    nothing is run again, exactly once (on Postgres by one of two servers sweeping the same database)."""
    uri = shared.test_database_uri()
    home = tmp_path / "home"
    srv = make_server(LEASE, home=home, pg_uri=uri)
    names = [f"crash-{uuid.uuid4().hex[:8]}" for _ in range(4)]
    agents = [httpx.post(f"{srv.base_url}/v1/agents/", timeout=60,
                         json={"model": f"openai-proxy/{n}", "embedding": EMBEDDING}).json()["id"] for n in names]
    queues = [scripted_llm.for_model(n) for n in names]
    # agent 0: streamed, the model never answers; agent 1: streamed, one step written and streamed, then the
    # model hangs; agent 2: an async run whose model hangs (nothing written); agent 3: an async run that
    # wrote one step, then its model hangs.
    queues[0].push_delay(600).push_text("never")
    queues[1].push_tool_call("conversation_search", {"query": "x", "request_heartbeat": True})
    queues[1].push_delay(600).push_text("never")
    queues[2].push_delay(600).push_text("never")
    queues[3].push_tool_call("conversation_search", {"query": "y", "request_heartbeat": True})
    queues[3].push_delay(600).push_text("never")
    seen: list[list[bytes]] = [[], []]
    threads = [_stream_in_background(srv.base_url, agents[i], seen[i]) for i in range(2)]
    queued = _async(srv.base_url, agents[2], "queued turn")
    stepped = _async(srv.base_url, agents[3], "stepped turn")
    wait_until(lambda: [len(scripted_llm.requests_for(n)) for n in names] == [1, 2, 1, 2], what="turns in flight")
    wait_until(lambda: bool(seen[1]), what="agent 1's first chunk streamed")
    active = httpx.get(f"{srv.base_url}/v1/runs/active", timeout=30).json()
    assert sorted(r["agent_id"] for r in active) == sorted(agents)

    os.killpg(srv.proc.pid, signal.SIGKILL)
    srv.proc.wait(timeout=10)
    for thread in threads:
        thread.join(timeout=30)
        assert not thread.is_alive(), "a stream of the killed server did not end"

    queues[2].push_tool_call("send_message", {"message": "ran again"})  # what the re-queued run's model says
    back = make_server(LEASE, home=home, pg_uri=uri)
    # Postgres: a second live server sweeps the same database; the re-queued run still runs once.
    other = make_server(LEASE, home=tmp_path / "other", pg_uri=uri) if PG_ADMIN_URI is not None else None
    if PG_ADMIN_URI is None:  # SQLite: closed or re-queued before the restarted server answers its first request
        still = httpx.get(f"{back.base_url}/v1/runs/active", timeout=30).json()
        assert [r["id"] for r in still] in ([], [queued["id"]]), still
    wait_until(lambda: httpx.get(f"{back.base_url}/v1/runs/active", timeout=30).json() == [],
               timeout=60, what="orphaned runs closed (after their lease expired on Postgres), re-queued run done")
    for run in active:
        got = httpx.get(f"{back.base_url}/v1/runs/{run['id']}", timeout=30).json()
        if run["id"] == queued["id"]:
            assert (got["status"], got["stop_reason"]) == ("completed", "end_turn"), got
            assert got["metadata"]["requeued"] == 1 and "error" not in got["metadata"], got
            continue
        assert (got["status"], got["stop_reason"]) == ("failed", "error"), got
        assert "server stopped" in got["metadata"]["error"]
        assert got["completed_at"] is not None
    assert stepped["id"] in [r["id"] for r in active]
    # Exactly once: one more model call, the input stored once, the reply in the run's messages.
    assert len(scripted_llm.requests_for(names[2])) == 2
    history = httpx.get(f"{back.base_url}/v1/agents/{agents[2]}/messages", params={"limit": 100}, timeout=30).json()
    assert [m["content"] for m in history if m["message_type"] == "user_message"].count("queued turn") == 1
    ran = httpx.get(f"{back.base_url}/v1/runs/{queued['id']}/messages", timeout=30).json()
    assert any(m.get("content") == "ran again" for m in ran), ran
    for server in [back] + ([other] if other else []):
        assert httpx.get(f"{server.base_url}/v1/runs/active", timeout=30).json() == []

    for name, queue, agent_id in zip(names, queues, agents, strict=False):
        queue.push_tool_call("send_message", {"message": f"back for {name}"})
        resp = httpx.post(f"{back.base_url}/v1/agents/{agent_id}/messages", timeout=60,
                          json={"messages": [{"role": "user", "content": "again"}]})
        assert resp.status_code == 200, resp.text
        assert any(m.get("content") == f"back for {name}" for m in resp.json()["messages"])
    assert httpx.get(f"{back.base_url}/v1/runs/active", timeout=30).json() == []
    assert len(scripted_llm.requests_for(names[2])) == 3


def test_a_live_server_keeps_its_runs_leased_while_another_sweeps(make_server, scripted_llm, tmp_path):
    """Two servers on one database: the sweeper of one never closes a live run of the other."""
    uri = shared.test_database_uri()
    if PG_ADMIN_URI is None:
        a = make_server(LEASE, home=tmp_path / "shared")
        b = None
    else:
        a = make_server(LEASE, home=tmp_path / "a", pg_uri=uri)
        b = make_server(LEASE, home=tmp_path / "b", pg_uri=uri)
    name = f"lease-{uuid.uuid4().hex[:8]}"
    agent = httpx.post(f"{a.base_url}/v1/agents/", timeout=60,
                       json={"model": f"openai-proxy/{name}", "embedding": EMBEDDING}).json()["id"]
    queue = scripted_llm.for_model(name)
    queue.push_delay(4).push_tool_call("send_message", {"message": "done late"})  # two lease lengths
    result: list[httpx.Response] = []
    thread = threading.Thread(target=lambda: result.append(httpx.post(
        f"{a.base_url}/v1/agents/{agent}/messages", timeout=60,
        json={"messages": [{"role": "user", "content": "go"}]})), daemon=True)
    thread.start()
    thread.join(timeout=60)
    assert result and result[0].status_code == 200, result
    run_id = result[0].json()["messages"][0]["run_id"] if result[0].json()["messages"][0].get("run_id") else None
    runs = httpx.get(f"{(b or a).base_url}/v1/runs/", params={"agent_ids": agent}, timeout=30).json()
    mine = [r for r in runs if r["agent_id"] == agent and (run_id is None or r["id"] == run_id)]
    assert mine and all(r["status"] == "completed" for r in mine), mine


def test_a_stalled_server_whose_run_was_taken_over_writes_nothing_when_it_wakes(make_server, scripted_llm,
                                                                                tmp_path):
    """A server frozen (SIGSTOP) mid-turn past its lease: the other server of the database claims the async
    run, which had written nothing, and answers it. The frozen one, woken, finds the run no longer its own:
    its answer is dropped, the run stays completed with the other's answer, and the message is stored once."""
    if PG_ADMIN_URI is None:  # one server per SQLite data directory: nobody else could claim the run
        return
    uri = shared.test_database_uri()
    # A freeze inside one of its transactions would keep the rows it locked from the sweeper until
    # Postgres ends the session (AGENTHOST_PG_IDLE_IN_TRANSACTION_SECONDS; 60 s by default).
    env = {**LEASE, "AGENTHOST_PG_IDLE_IN_TRANSACTION_SECONDS": "3"}
    stalled = make_server(env, home=tmp_path / "stalled", pg_uri=uri)
    sweeper = make_server(env, home=tmp_path / "sweeper", pg_uri=uri)
    name = f"stall-{uuid.uuid4().hex[:8]}"
    agent = httpx.post(f"{stalled.base_url}/v1/agents/", timeout=60,
                       json={"model": f"openai-proxy/{name}", "embedding": EMBEDDING}).json()["id"]
    queue = scripted_llm.for_model(name)
    queue.push_delay(1).push_tool_call("send_message", {"message": "from the stalled server"})
    queue.push_tool_call("send_message", {"message": "from the sweeper"})
    run = _async(stalled.base_url, agent, "hello once")
    wait_until(lambda: len(scripted_llm.requests_for(name)) == 1, what="the first server's model call sent")
    os.killpg(stalled.proc.pid, signal.SIGSTOP)
    try:
        # (generous: on a loaded machine the sweeper's lease rounds can time out on the database a while)
        wait_until(lambda: httpx.get(f"{sweeper.base_url}/v1/runs/{run['id']}", timeout=30).json()["metadata"]
                   .get("requeued") == 1, timeout=75, what="the run claimed by the other server")
    finally:
        os.killpg(stalled.proc.pid, signal.SIGCONT)
    # The frozen server still holds the agent (its advisory lock): the other server answers the run once the
    # woken one has given its turn up.
    wait_until(lambda: httpx.get(f"{sweeper.base_url}/v1/runs/{run['id']}", timeout=30).json()["status"]
               == "completed", timeout=75, what="the run answered by the other server")
    queue.push_tool_call("send_message", {"message": "after"})
    resp = httpx.post(f"{stalled.base_url}/v1/agents/{agent}/messages", timeout=60,
                      json={"messages": [{"role": "user", "content": "after"}]})
    assert resp.status_code == 200, resp.text
    got = httpx.get(f"{stalled.base_url}/v1/runs/{run['id']}", timeout=30).json()
    assert (got["status"], got["stop_reason"], got["metadata"].get("requeued")) == ("completed", "end_turn", 1), got
    history = httpx.get(f"{sweeper.base_url}/v1/agents/{agent}/messages", params={"limit": 100}, timeout=30).json()
    assert [m["content"] for m in history if m["message_type"] == "user_message"
            and m["content"] in ("hello once", "after")] == ["hello once", "after"]
    assert [m["content"] for m in history if m["message_type"] == "assistant_message"] == ["from the sweeper",
                                                                                           "after"]
    assert len(scripted_llm.requests_for(name)) == 3
