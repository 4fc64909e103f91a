"""Message batches (``/v1/messages/batches``) with the real letta-client SDK: 20 agents in one batch, run
four at a time; a second batch cancelled while it waits; the server killed (SIGKILL) mid-batch and started
again on the same data: the items it was running end failed (their runs were orphaned), the others are
resumed, and the batch completes. On SQLite the restarted server resumes at start-up; on Postgres once the
batch's lease expired."""

from __future__ import annotations

import os
import signal
import uuid

import httpx
from letta_client import Letta, LettaBatchRequest, MessageCreate

from tests import conftest as shared
from tests.host.agent.conftest import EMBEDDING
from tests.support.waiting import wait_until

LEASE = {"AGENTHOST_RUN_LEASE_SECONDS": "2", "AGENTHOST_RUN_RENEW_SECONDS": "0.5"}
CONCURRENCY = 4  # host.services.batches.CONCURRENCY


def _agents(base_url: str, count: int, tag: str) -> list[str]:
    ids = []
    for i in range(count):
        resp = httpx.post(f"{base_url}/v1/agents/", timeout=60,
                          json={"model": f"openai-proxy/{tag}-{i}", "embedding": EMBEDDING})
        assert resp.status_code == 200, resp.text
        ids.append(resp.json()["id"])
    return ids


def _request(agent_id: str, text: str) -> LettaBatchRequest:
    return LettaBatchRequest(agent_id=agent_id, messages=[MessageCreate(role="user", content=text)])


def test_a_batch_of_20_agents_survives_a_restart_and_a_cancelled_batch_runs_nothing(make_server, scripted_llm,
                                                                                     tmp_path):
    uri = shared.test_database_uri()
    home = tmp_path / "home"
    srv = make_server(LEASE, home=home, pg_uri=uri)
    tag = f"batch-{uuid.uuid4().hex[:8]}"
    agents = _agents(srv.base_url, 20, tag)
    others = _agents(srv.base_url, 3, f"{tag}-other")
    client = Letta(base_url=srv.base_url, timeout=60)

    # The first wave (whichever items start first) hangs at the model: the shared queue answers them late.
    before = len(scripted_llm.requests)
    for _ in range(CONCURRENCY):
        scripted_llm.push_delay(600)
        scripted_llm.shared.push_text("never")
    batch = client.batches.create(requests=[_request(a, f"hello {i}") for i, a in enumerate(agents)])
    assert batch.status == "running" and batch.job_type == "batch"
    scripted_llm.wait_for_requests(before + CONCURRENCY, timeout=60)

    # A second batch waits for a free slot; cancelling it runs none of its items.
    waiting = client.batches.create(requests=[_request(a, "never sent") for a in others])
    cancelled = client.batches.cancel(waiting.id)
    got = client.batches.retrieve(waiting.id)
    assert got.status == "cancelled" and got.completed_at is not None
    assert got.metadata["items"] == {"cancelled": 3}
    assert client.messages.list_batch_messages(waiting.id).messages == []
    assert cancelled is not None

    running = client.batches.retrieve(batch.id)
    assert running.status == "running"
    assert running.metadata["items"] == {"running": CONCURRENCY, "pending": 20 - CONCURRENCY}
    assert len(scripted_llm.requests) == before + CONCURRENCY  # bounded: nothing else reached the model
    assert {b.id for b in client.batches.list()} >= {batch.id, waiting.id}

    os.killpg(srv.proc.pid, signal.SIGKILL)
    srv.proc.wait(timeout=10)

    back = make_server(LEASE, home=home, pg_uri=uri)
    client = Letta(base_url=back.base_url, timeout=60)

    def finished():
        got = client.batches.retrieve(batch.id)
        return got if got.status != "running" else None

    done = wait_until(finished, timeout=120, what="the batch to finish after the restart")
    assert done.status == "completed", done
    assert done.metadata["items"] == {"failed": CONCURRENCY, "completed": 20 - CONCURRENCY}
    assert done.completed_at is not None
    assert client.batches.retrieve(waiting.id).status == "cancelled"
    assert httpx.get(f"{back.base_url}/v1/runs/active", timeout=30).json() == []

    # Each completed item's reply is in the batch's messages, tagged with its item; the agent filter works.
    messages = client.messages.list_batch_messages(batch.id, limit=1000).messages
    replied = {m.agent_id for m in messages if m.role == "assistant"}
    assert len(replied) == 20 - CONCURRENCY and replied <= set(agents)
    assert all(m.batch_item_id for m in messages)
    one = sorted(replied)[0]
    only = client.messages.list_batch_messages(batch.id, agent_id=one, limit=1000).messages
    assert only and {m.agent_id for m in only} == {one}
    texts = [c.text for m in only if m.role == "user" for c in (m.content or [])]
    assert any(t and "hello" in t for t in texts)
    # the agents whose run was orphaned take new turns
    resp = httpx.post(f"{back.base_url}/v1/agents/{agents[0]}/messages", timeout=60,
                      json={"messages": [{"role": "user", "content": "again"}]})
    assert resp.status_code == 200, resp.text


def test_batch_errors_are_clear_4xx(server, http):
    client = Letta(base_url=server.base_url, timeout=60)
    resp = http.post("/v1/messages/batches", json={"requests": [
        {"agent_id": "agent-00000000-0000-0000-0000-000000000000", "messages": [{"role": "user", "content": "x"}]}]})
    assert resp.status_code == 404 and "agent-00000000-0000-0000-0000-000000000000" in resp.text
    resp = http.post("/v1/messages/batches", json={"requests": []})
    assert resp.status_code == 422 and "requests" in resp.text
    resp = http.get("/v1/messages/batches/job-00000000-0000-0000-0000-000000000000")
    assert resp.status_code == 404 and "Batch" in resp.text
    resp = http.patch("/v1/messages/batches/job-00000000-0000-0000-0000-000000000000/cancel")
    assert resp.status_code == 404
    assert isinstance(client.batches.list(), list)


def test_cancelling_a_batch_stops_its_running_run(server, scripted_llm):
    tag = f"bcancel-{uuid.uuid4().hex[:8]}"
    [agent] = _agents(server.base_url, 1, tag)
    queue = scripted_llm.for_model(f"{tag}-0")
    queue.push_delay(600).push_text("never")
    client = Letta(base_url=server.base_url, timeout=60)
    batch = client.batches.create(requests=[_request(agent, "hang")])
    wait_until(lambda: scripted_llm.requests_for(f"{tag}-0"), timeout=60, what="the item's model call")
    client.batches.cancel(batch.id)
    done = wait_until(lambda: (lambda b: b if b.metadata["items"] == {"cancelled": 1} else None)(
        client.batches.retrieve(batch.id)), timeout=60, what="the running item to end cancelled")
    assert done.status == "cancelled"
    runs = httpx.get(f"{server.base_url}/v1/runs/", params={"agent_ids": agent}, timeout=30).json()
    assert [r["status"] for r in runs] == ["cancelled"]
    queue.push_tool_call("send_message", {"message": "back"})
    resp = httpx.post(f"{server.base_url}/v1/agents/{agent}/messages", timeout=60,
                      json={"messages": [{"role": "user", "content": "again"}]})
    assert resp.status_code == 200, resp.text
