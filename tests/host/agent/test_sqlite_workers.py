"""`agenthost serve --workers 2` on one SQLite file: two processes that behave as one server.

Requests are steered to a chosen worker (``tests.support.workers``: the connection's server side is found in
that worker's sockets). One turn per agent at a time holds across the workers (a byte-range lock on
``agent-turns.lock``); an edit made through one worker is what the other serves next; a worker killed with
SIGKILL frees its agents at once, its runs are closed when their lease expires, and the worker uvicorn starts
in its place leaves its sibling's live runs alone; an MCP server added through one worker is callable through
the other; uploads sent to either are each ingested once; a second `serve` on the directory is refused by
the supervisor, which holds its lock, and the workers stop when the supervisor is killed. They are about
SQLite, so they run in the SQLite pass; the Postgres pass (``AGENTHOST_TEST_PG_URI``) would only run them again
(several Postgres processes: ``test_processes.py``, ``test_fleet.py``).
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import uuid
from pathlib import Path
from typing import Any

import httpx
import psutil
import pytest

from tests.host.agent.conftest import EMBEDDING
from tests.support.server import ServerProcess, free_port, server_env
from tests.support.waiting import wait_until
from tests.support.workers import WorkerConnection, connect, owner_of, worker_pids

pytestmark = pytest.mark.skipif(bool(os.environ.get("AGENTHOST_TEST_PG_URI")),
                                reason="SQLite workers: run in the SQLite pass (the same tests again on SQLite)")

# Short, so that a dead worker's run ends soon; long enough that a live worker starved of CPU on a loaded machine still
# renews its runs in time (every 0.5 s).
LEASE = {"AGENTHOST_RUN_LEASE_SECONDS": "5", "AGENTHOST_RUN_RENEW_SECONDS": "0.5"}
PEER_SERVER = Path(__file__).resolve().parents[2] / "peers" / "peer_server.py"
TERMINAL = {"completed", "failed", "cancelled"}


@pytest.fixture
def two_workers(scripted_llm, tmp_path):
    """`agenthost serve --workers 2` on SQLite (in every pass: no LETTA_PG_URI)."""
    started: list[ServerProcess] = []

    def start(extra: dict[str, str] | None = None) -> ServerProcess:
        home = tmp_path / f"home{len(started)}"
        srv = ServerProcess(home=home, env=server_env(home, scripted_llm.base_url, extra=extra),
                            args=("--workers", "2"))
        started.append(srv)
        srv.start()
        assert len(worker_pids(srv)) == 2, "two worker processes"
        return srv

    yield start
    for srv in started:
        srv.stop()
        print(f"--- log of the server on port {srv.port} ---\n{srv.log()}")  # shown when the test failed


def _pair(srv: ServerProcess) -> tuple[WorkerConnection, WorkerConnection]:
    first = connect(srv)
    return first, connect(srv, avoid=first.pid)


def _create_agent(conn: WorkerConnection, handle: str, **body: Any) -> dict[str, Any]:
    status, agent = conn.request("POST", "/v1/agents/", {"model": handle, "embedding": EMBEDDING, **body})
    assert status == 200, agent
    return agent


def _say(conn: WorkerConnection, agent_id: str, text: str) -> dict[str, Any]:
    status, body = conn.request("POST", f"/v1/agents/{agent_id}/messages",
                                {"messages": [{"role": "user", "content": text}]})
    assert status == 200, body
    return body


def _turns(conn: WorkerConnection, agent_id: str) -> list[tuple[str, str]]:
    status, messages = conn.request("GET", f"/v1/agents/{agent_id}/messages?limit=1000")
    assert status == 200, messages
    return [(m["message_type"], m["content"]) for m in messages
            if m["message_type"] in ("user_message", "assistant_message") and m["content"] in ("first", "second")]


def test_turns_of_one_agent_sent_to_both_workers_never_interleave(two_workers, model):
    srv = two_workers()
    a, b = _pair(srv)
    assert a.pid != b.pid
    agent = _create_agent(a, model.handle)
    # The first turn's model call takes 2 s: the second turn, sent meanwhile through the other worker, has
    # that long to start too early. Held by the lock, it starts once the first turn has written everything.
    model.script.push_delay(2.0)
    answers: dict[str, dict[str, Any]] = {}

    def send(conn: WorkerConnection, text: str) -> None:
        answers[text] = _say(conn, agent["id"], text)

    first = threading.Thread(target=send, args=(a, "first"))
    first.start()
    wait_until(lambda: len(model.requests) == 1, what="the first turn's model call")
    second = threading.Thread(target=send, args=(b, "second"))
    second.start()
    first.join(timeout=120)
    second.join(timeout=120)

    assert set(answers) == {"first", "second"}
    assert len(model.requests) == 2
    # The second turn's model call saw the whole first turn (its question and its answer) before its own.
    sent = model.requests[1]["messages"]
    answered = [json.loads(c["function"]["arguments"]).get("message") for m in sent if m["role"] == "assistant"
                for c in m.get("tool_calls") or []]
    assert answered[-1:] == ["first"] and sent[-1]["role"] == "user" and "second" in str(sent[-1]["content"])
    assert _turns(b, agent["id"]) == [("user_message", "first"), ("assistant_message", "first"),
                                      ("user_message", "second"), ("assistant_message", "second")]


def test_an_agent_edited_through_one_worker_is_never_served_stale_by_the_other(two_workers, model):
    srv = two_workers()
    a, b = _pair(srv)
    agent = _create_agent(a, model.handle, name=f"before-{uuid.uuid4().hex[:6]}",
                          memory_blocks=[{"label": "human", "value": "Name: Ada"}])
    path = f"/v1/agents/{agent['id']}"
    for _ in range(2):  # the second GET is served from worker b's view cache
        status, seen = b.request("GET", path)
        assert status == 200 and seen["name"] == agent["name"]
    _say(b, agent["id"], "hello")  # worker b now also holds the agent's prompt and history in memory

    status, _ = a.request("PATCH", f"{path}/core-memory/blocks/human", {"value": "Name: Grace"})
    assert status == 200
    status, _ = a.request("PATCH", path, {"name": "after"})
    assert status == 200

    status, seen = b.request("GET", path)
    assert status == 200 and seen["name"] == "after"
    assert [blk["value"] for blk in seen["memory"]["blocks"] if blk["label"] == "human"] == ["Name: Grace"]
    status, listed = b.request("GET", "/v1/agents/?name=after&limit=50")
    assert status == 200 and [x["id"] for x in listed] == [agent["id"]]
    _say(b, agent["id"], "who am I talking to?")
    assert "Name: Grace" in model.system(-1) and "Name: Ada" not in model.system(-1)


def test_a_worker_killed_mid_turn_frees_its_agent_and_its_run_is_closed_by_lease(two_workers, scripted_llm):
    srv = two_workers(LEASE)
    victim, sibling = _pair(srv)
    names = {role: f"w-{role}-{uuid.uuid4().hex[:8]}" for role in ("victim", "sibling")}
    for name in names.values():
        scripted_llm.for_model(name).push_delay(600)  # these model calls never come back during the test
    agents = {role: _create_agent(victim, f"openai-proxy/{n}") for role, n in names.items()}
    runs = {}
    for role, conn in (("sibling", sibling), ("victim", victim)):  # an async run runs in the worker it reached
        status, run = conn.request("POST", f"/v1/agents/{agents[role]['id']}/messages/async",
                                   {"messages": [{"role": "user", "content": "before the kill"}]})
        assert status == 200, run
        runs[role] = run["id"]
    wait_until(lambda: all(len(scripted_llm.requests_for(n)) == 1 for n in names.values()),
               what="both model calls in flight")
    sibling_status = sibling.request("GET", f"/v1/runs/{runs['sibling']}")[1]["status"]
    assert sibling_status not in TERMINAL

    os.kill(victim.pid, signal.SIGKILL)

    # uvicorn's supervisor starts a worker in the dead one's place; once it accepts a connection its start-up
    # (which closes only runs whose lease expired) is over.
    def replaced() -> list[int] | None:
        pids = worker_pids(srv)
        return pids if len(pids) == 2 and victim.pid not in pids and sibling.pid in pids else None

    newcomer = next(p for p in wait_until(replaced, timeout=60, what="a new worker in place of the killed one")
                    if p != sibling.pid)
    assert connect(srv, to=newcomer).request("GET", "/v1/health/")[0] == 200

    def run(role: str) -> dict[str, Any]:
        return httpx.get(f"{srv.base_url}/v1/runs/{runs[role]}", timeout=30).json()

    def run_status(role: str) -> str:
        return run(role)["status"]

    wait_until(lambda: run_status("victim") in TERMINAL, timeout=60, what="the killed worker's run ended (lease 5 s)")
    # An async run that had written nothing is run again by a live worker (host.services.recovery); else failed.
    ended = run("victim")
    assert ended["status"] == "failed" or (ended["status"] == "completed" and ended["metadata"].get("requeued"))
    left = run("sibling")  # neither closed nor taken over (re-queued) by the new worker's start-up
    assert left["status"] == sibling_status and "requeued" not in left["metadata"], left

    # The killed worker's lock on the agent died with it: a turn through the sibling runs at once.
    answer = _say(connect(srv, to=sibling.pid), agents["victim"]["id"], "after the kill")
    assert [m["content"] for m in answer["messages"] if m["message_type"] == "assistant_message"] == ["after the kill"]
    assert run_status("sibling") == sibling_status
    assert len(scripted_llm.requests_for(names["sibling"])) == 1, "the sibling's turn was never run twice"


def test_an_mcp_server_added_through_one_worker_is_callable_through_the_other(two_workers, model):
    """The periodic re-read of the servers table is an hour here: the call through worker b works because b,
    meeting a server name it does not run, re-reads the table there and then."""
    srv = two_workers({**LEASE, "AGENTHOST_MCP_DB_SYNC_SECONDS": "3600"})
    a, b = _pair(srv)
    server = f"w_{uuid.uuid4().hex[:8]}"
    status, body = a.request("PUT", "/v1/tools/mcp/servers",
                             {"server_name": server, "command": sys.executable, "args": [str(PEER_SERVER)]})
    assert status == 200, body
    wait_until(lambda: connect(srv, to=a.pid).request("GET", f"/v1/tools/mcp/servers/{server}/tools")[0] == 200,
               timeout=60, what="the server connected on worker a", poll=0.2)
    status, tool = connect(srv, to=a.pid).request("POST", f"/v1/tools/mcp/servers/{server}/add")
    assert status == 200, tool
    assert server not in b.request("GET", "/v1/tools/mcp/servers")[1]  # worker b has not read it yet

    agent = _create_agent(b, model.handle, tool_ids=[tool["id"]])
    model.script.push_tool_call(tool["name"], {"a": 2, "b": 3})
    answer = _say(b, agent["id"], "add")
    returns = [m for m in answer["messages"] if m["message_type"] == "tool_return_message"]
    assert [(r["status"], r["tool_return"]) for r in returns] == [("success", "5")]


def test_a_second_serve_on_the_data_directory_of_a_two_worker_server_is_refused(two_workers):
    """The supervisor holds the data directory lock for its workers (they never try to take it)."""
    srv = two_workers()
    assert srv.proc is not None
    second = subprocess.run([sys.executable, "-m", "host.cli", "serve", "--port", str(free_port()), "--workers", "2"],
                            env=srv.env, capture_output=True, text=True, cwd=Path(__file__).resolve().parents[3],
                            timeout=60)
    assert second.returncode == 1, second.stderr
    assert f"is in use by process {srv.proc.pid}" in second.stderr
    assert len(worker_pids(srv)) == 2 and httpx.get(f"{srv.base_url}/v1/health/", timeout=30).status_code == 200


def test_uploads_to_both_workers_are_each_ingested_once(two_workers):
    srv = two_workers()
    a, b = _pair(srv)
    status, source = a.request("POST", "/v1/sources/", {"name": f"w-{uuid.uuid4().hex[:8]}", "embedding": EMBEDDING})
    assert status == 200, source
    words = [f"Kestrel{uuid.uuid4().hex[:8]}" for _ in range(12)]
    jobs = []
    for i, word in enumerate(words):
        resp = httpx.post(f"{srv.base_url}/v1/sources/{source['id']}/upload", timeout=60,
                          headers={"Connection": "close"},  # each upload a new connection, to either worker
                          files={"file": (f"note{i}.txt", f"Note {i}: the word is {word}.".encode(), "text/plain")})
        assert resp.status_code == 200, resp.text
        jobs.append(resp.json()["job_id"])

    def statuses() -> list[str]:
        return [(b if i % 2 else a).request("GET", f"/v1/jobs/{job}")[1]["status"] for i, job in enumerate(jobs)]

    wait_until(lambda: all(s in TERMINAL for s in statuses()), timeout=120, what="every ingestion job ended")
    assert statuses() == ["completed"] * len(jobs)
    status, passages = b.request("GET", f"/v1/sources/{source['id']}/passages?limit=1000")
    assert status == 200, passages
    texts = [p["text"] for p in passages]
    assert len(texts) == len(words) and all(sum(w in t for t in texts) == 1 for w in words), "each file once"


def test_the_workers_stop_when_their_supervisor_is_killed(two_workers):
    """The supervisor holds the data directory lock: no worker may serve on after it is gone."""
    srv = two_workers()
    assert srv.proc is not None
    workers = [psutil.Process(pid) for pid in worker_pids(srv)]
    os.kill(srv.proc.pid, signal.SIGKILL)
    srv.proc.wait(timeout=10)

    def stopped(proc: psutil.Process) -> bool:
        try:
            return proc.status() == psutil.STATUS_ZOMBIE
        except psutil.NoSuchProcess:
            return True

    try:
        wait_until(lambda: all(stopped(w) for w in workers), timeout=60, what="both workers gone with their supervisor")
    finally:
        for w in workers:  # (if they outlived it, the fixture's stop no longer reaches them)
            if not stopped(w):
                w.kill()


def test_connections_opened_together_are_spread_over_both_workers(two_workers):
    """Each worker accepts on a socket of its own (SO_REUSEPORT): a pool of keep-alive connections opened at
    once reaches both workers. With one shared socket the first worker to wake accepted them all."""
    srv = two_workers()
    clients = [socket.create_connection(("127.0.0.1", srv.port)) for _ in range(24)]  # all in one burst
    try:
        owners: dict[int, int] = {}

        def all_accepted() -> bool:
            for c in clients:
                port = c.getsockname()[1]
                if port not in owners and (pid := owner_of(srv, port)) is not None:
                    owners[port] = pid
            return len(owners) == len(clients)

        wait_until(all_accepted, timeout=30, what="every connection accepted by a worker", poll=0.05)
        # (24 connections hashed over two sockets all on one: a chance of 2 in 2**24)
        assert set(owners.values()) == set(worker_pids(srv)), owners
        for c in clients[:2]:  # and they are served
            c.sendall(f"GET /v1/health/ HTTP/1.1\r\nHost: 127.0.0.1:{srv.port}\r\n\r\n".encode())
            assert c.recv(64).startswith(b"HTTP/1.1 200")
    finally:
        for c in clients:
            c.close()
