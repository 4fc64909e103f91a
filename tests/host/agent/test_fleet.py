"""A fleet: three `agenthost serve` processes, each with its own home directory, on one Postgres database
(what a load balancer in front of several hosts gives).

Work sent to any of them is done exactly once: 50 uploads spread over the three are each ingested once (the
process that claims a job need not be the one that received the file), 200 async messages to 10 agents
each get one run and one answer. A process killed in the middle of runs has them ended by the others
within the lease time, and its agents take new turns elsewhere. An MCP server added through one process's
API is callable from another's agents.
"""

from __future__ import annotations

import os
import signal
import sys
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest

from tests import conftest as shared
from tests.conftest import PG_ADMIN_URI
from tests.host.agent.conftest import EMBEDDING
from tests.support.waiting import wait_until

pytestmark = pytest.mark.skipif(PG_ADMIN_URI is None, reason="a fleet shares a Postgres database (one `serve` per "
                                "SQLite data directory); runs in the Postgres pass")

LEASE = {"AGENTHOST_RUN_LEASE_SECONDS": "2", "AGENTHOST_RUN_RENEW_SECONDS": "0.5"}
PEER_SERVER = Path(__file__).resolve().parents[2] / "peers" / "peer_server.py"
TERMINAL = {"completed", "failed", "cancelled"}


@pytest.fixture
def fleet(make_server, tmp_path):
    uri = shared.test_database_uri()
    return [make_server(LEASE, home=tmp_path / f"host{i}", pg_uri=uri) for i in range(3)]


def _agent(base_url: str, name: str) -> str:
    resp = httpx.post(f"{base_url}/v1/agents/", timeout=60, json={"model": f"openai-proxy/{name}",
                                                                    "embedding": EMBEDDING})
    assert resp.status_code == 200, resp.text
    return resp.json()["id"]


def _run_status(base_url: str, run_id: str) -> str:
    return httpx.get(f"{base_url}/v1/runs/{run_id}", timeout=30).json()["status"]


def test_async_messages_spread_over_the_fleet_are_each_run_once(fleet, scripted_llm):
    names = [f"fleet-{uuid.uuid4().hex[:8]}" for _ in range(10)]
    agents = [_agent(fleet[i % 3].base_url, n) for i, n in enumerate(names)]
    sends = [(k, agents[k % 10], f"message {k} for {names[k % 10]}") for k in range(200)]

    def send(item: tuple[int, str, str]) -> str:
        k, agent_id, text = item
        resp = httpx.post(f"{fleet[k % 3].base_url}/v1/agents/{agent_id}/messages/async", timeout=60,
                          json={"messages": [{"role": "user", "content": text}]})
        assert resp.status_code == 200, resp.text
        return resp.json()["id"]

    with ThreadPoolExecutor(16) as pool:
        run_ids = list(pool.map(send, sends))
    assert len(set(run_ids)) == 200

    wait_until(lambda: httpx.get(f"{fleet[0].base_url}/v1/runs/active", timeout=30).json() == [], timeout=300,
               what="every async run finished")
    with ThreadPoolExecutor(8) as pool:
        runs = list(pool.map(lambda r: httpx.get(f"{fleet[1].base_url}/v1/runs/{r}", timeout=30).json(), run_ids))
    assert [r["status"] for r in runs] == ["completed"] * 200

    for name, agent_id in zip(names, agents, strict=True):
        # The scripted model echoes each user message through send_message: one model call per run. A server
        # that stalled past its 2 s lease (a loaded machine) may have had runs claimed by another, which ran
        # them again (metadata.requeued); the stalled one may have called the model before it found out, but
        # wrote nothing (the history below).
        requeued = sum(1 for r in runs if r["agent_id"] == agent_id and r["metadata"].get("requeued"))
        assert 20 <= len(scripted_llm.requests_for(name)) <= 20 + requeued, name
        history = httpx.get(f"{fleet[2].base_url}/v1/agents/{agent_id}/messages", timeout=30,
                            params={"limit": 1000}).json()
        sent = sorted(t for _, a, t in sends if a == agent_id)
        users = sorted(m["content"] for m in history  # (the agent's first message is a login event)
                       if m["message_type"] == "user_message" and m["content"].startswith("message "))
        answers = sorted(m["content"] for m in history if m["message_type"] == "assistant_message")
        assert users == sent and answers == sent, f"{name}: each message once, each answered once"


def test_uploads_spread_over_the_fleet_are_each_ingested_once(fleet):
    source = httpx.post(f"{fleet[0].base_url}/v1/sources/", timeout=60,
                        json={"name": f"fleet-{uuid.uuid4().hex[:8]}", "embedding": EMBEDDING})
    assert source.status_code == 200, source.text
    source_id = source.json()["id"]
    words = [f"Kestrel{uuid.uuid4().hex[:8]}" for _ in range(50)]

    def upload(i: int) -> dict:
        text = f"Note {i}: the word of this file is {words[i]}.".encode()
        resp = httpx.post(f"{fleet[i % 3].base_url}/v1/sources/{source_id}/upload", timeout=60,
                          files={"file": (f"note{i}.txt", text, "text/plain")})
        assert resp.status_code == 200, resp.text
        return resp.json()

    with ThreadPoolExecutor(10) as pool:
        files = list(pool.map(upload, range(50)))

    def jobs() -> list[dict]:
        return [httpx.get(f"{fleet[(i + 1) % 3].base_url}/v1/jobs/{f['job_id']}", timeout=30).json()
                for i, f in enumerate(files)]

    wait_until(lambda: all(j["status"] in TERMINAL for j in jobs()), timeout=300, what="every ingestion job ended")
    done = jobs()
    assert [j["status"] for j in done] == ["completed"] * 50, [j.get("metadata") for j in done
                                                                if j["status"] != "completed"]
    assert all(j["metadata"]["num_passages"] == 1 for j in done)
    passages = httpx.get(f"{fleet[2].base_url}/v1/sources/{source_id}/passages", timeout=30,
                         params={"limit": 1000}).json()
    texts = [p["text"] for p in passages]
    assert len(texts) == 50 and all(sum(w in t for t in texts) == 1 for w in words), "each file once"
    listed = httpx.get(f"{fleet[1].base_url}/v1/sources/{source_id}/files", timeout=30,
                       params={"limit": 1000}).json()
    assert sorted(f["processing_status"] for f in listed) == ["completed"] * 50


def test_a_killed_process_has_its_runs_ended_by_the_others_and_its_agents_carry_on(fleet, scripted_llm):
    victim, survivor = fleet[2], fleet[0]
    names = [f"victim-{uuid.uuid4().hex[:8]}" for _ in range(3)]
    agents = [_agent(victim.base_url, n) for n in names]
    for name in names:
        scripted_llm.for_model(name).push_delay(600)  # the killed process's model calls never come back
    runs = []
    for agent_id in agents:
        resp = httpx.post(f"{victim.base_url}/v1/agents/{agent_id}/messages/async", timeout=60,
                          json={"messages": [{"role": "user", "content": "before the crash"}]})
        assert resp.status_code == 200, resp.text
        runs.append(resp.json()["id"])
    wait_until(lambda: all(len(scripted_llm.requests_for(n)) == 1 for n in names), what="the model calls in flight")

    os.killpg(victim.proc.pid, signal.SIGKILL)
    victim.proc.wait(timeout=10)

    wait_until(lambda: all(_run_status(survivor.base_url, r) in TERMINAL for r in runs), timeout=60,
               what="the dead process's runs ended by a live one (lease 2 s)")
    for agent_id in agents:
        resp = httpx.post(f"{fleet[1].base_url}/v1/agents/{agent_id}/messages", timeout=60,
                          json={"messages": [{"role": "user", "content": "after the crash"}]})
        assert resp.status_code == 200, resp.text
        assert any(m.get("content") == "after the crash" for m in resp.json()["messages"]
                   if m["message_type"] == "assistant_message")
    assert httpx.get(f"{survivor.base_url}/v1/runs/active", timeout=30).json() == []


def test_an_mcp_server_added_on_one_process_is_callable_from_another(fleet, scripted_llm):
    server = f"fleet_{uuid.uuid4().hex[:8]}"
    added = httpx.put(f"{fleet[0].base_url}/v1/tools/mcp/servers", timeout=60,
                      json={"server_name": server, "command": sys.executable, "args": [str(PEER_SERVER)]})
    assert added.status_code == 200, added.text

    def listed(process: int) -> set[str]:
        resp = httpx.get(f"{fleet[process].base_url}/v1/tools/mcp/servers/{server}/tools", timeout=30)
        return {t["name"] for t in resp.json()} if resp.status_code == 200 else set()

    # Each process re-reads the API-added servers every 2 s: the one that registers the tool and the one whose
    # agent calls it must both have connected it.
    for process in (1, 2):
        wait_until(lambda p=process: "add" in listed(p), timeout=60,
                   what=f"the server known and connected on process {process}")
    tool = httpx.post(f"{fleet[1].base_url}/v1/tools/mcp/servers/{server}/add", timeout=60)
    assert tool.status_code == 200, tool.text
    name = f"fleet-mcp-{uuid.uuid4().hex[:8]}"
    agent = httpx.post(f"{fleet[2].base_url}/v1/agents/", timeout=60,
                       json={"model": f"openai-proxy/{name}", "embedding": EMBEDDING,
                             "tool_ids": [tool.json()["id"]]}).json()["id"]
    scripted_llm.for_model(name).push_tool_call(tool.json()["name"], {"a": 2, "b": 3})

    resp = httpx.post(f"{fleet[2].base_url}/v1/agents/{agent}/messages", timeout=60,
                      json={"messages": [{"role": "user", "content": "add"}]})
    assert resp.status_code == 200, resp.text
    returns = [m for m in resp.json()["messages"] if m["message_type"] == "tool_return_message"]
    assert [(r["status"], r["tool_return"]) for r in returns] == [("success", "5")]


def test_a_process_meeting_an_unknown_server_name_reads_the_table_at_once(make_server, scripted_llm, tmp_path):
    """The periodic re-read is an hour here: the call can only succeed if process 2, meeting a server name it
    does not run, re-reads the table there and then (``McpPool.on_unknown_server``)."""
    uri = shared.test_database_uri()
    slow = {**LEASE, "AGENTHOST_MCP_DB_SYNC_SECONDS": "3600"}
    first, second = (make_server(slow, home=tmp_path / f"slow{i}", pg_uri=uri) for i in range(2))
    server = f"miss_{uuid.uuid4().hex[:8]}"
    added = httpx.put(f"{first.base_url}/v1/tools/mcp/servers", timeout=60,
                      json={"server_name": server, "command": sys.executable, "args": [str(PEER_SERVER)]})
    assert added.status_code == 200, added.text
    wait_until(lambda: httpx.get(f"{first.base_url}/v1/tools/mcp/servers/{server}/tools", timeout=30).status_code
               == 200, timeout=60, what="the server connected on process 1")
    tool = httpx.post(f"{first.base_url}/v1/tools/mcp/servers/{server}/add", timeout=60)
    assert tool.status_code == 200, tool.text
    assert server not in httpx.get(f"{second.base_url}/v1/tools/mcp/servers", timeout=30).json()  # not yet here
    name = f"miss-{uuid.uuid4().hex[:8]}"
    agent = httpx.post(f"{second.base_url}/v1/agents/", timeout=60,
                       json={"model": f"openai-proxy/{name}", "embedding": EMBEDDING,
                             "tool_ids": [tool.json()["id"]]}).json()["id"]
    scripted_llm.for_model(name).push_tool_call(tool.json()["name"], {"a": 4, "b": 5})

    resp = httpx.post(f"{second.base_url}/v1/agents/{agent}/messages", timeout=60,
                      json={"messages": [{"role": "user", "content": "add"}]})
    assert resp.status_code == 200, resp.text
    returns = [m for m in resp.json()["messages"] if m["message_type"] == "tool_return_message"]
    assert [(r["status"], r["tool_return"]) for r in returns] == [("success", "9")]
