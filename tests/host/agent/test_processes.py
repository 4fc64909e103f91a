"""Several server processes on one database: `agenthost serve` beside `agenthost mcp` on the same SQLite
file, `LETTA_UVICORN_WORKERS` workers on one SQLite file or on Postgres, or several hosts on one Postgres. Each process keeps agents'
histories in memory between turns; what another process changed must still reach the model."""

from __future__ import annotations

import anyio
import httpx
import psutil
import pytest

from tests.conftest import PG_ADMIN_URI, test_database_uri
from tests.host.agent.conftest import EMBEDDING, history


def _send(base_url: str, agent_id: str, text: str) -> httpx.Response:
    return httpx.post(f"{base_url}/v1/agents/{agent_id}/messages", timeout=60,
                      json={"messages": [{"role": "user", "content": text}]})


@pytest.mark.skipif(PG_ADMIN_URI is None, reason="one `serve` per SQLite data directory (issue 21: a second one is "
                    "refused, see tests/host/cli/test_second_serve.py); several share a Postgres database")
def test_a_turn_sees_what_another_process_did_to_the_agent(make_server, model, tmp_path):
    uri = test_database_uri()
    a = make_server(home=tmp_path / "shared", pg_uri=uri)
    b = make_server(home=tmp_path / "shared", pg_uri=uri)
    agent = httpx.post(f"{a.base_url}/v1/agents/", json={"model": model.handle, "embedding": EMBEDDING},
                       timeout=60).json()
    for _ in range(3):
        model.script.push_tool_call("send_message", {"message": "ok"})

    assert _send(a.base_url, agent["id"], "first").status_code == 200  # A now holds the history in memory
    first = next(m for m in history(httpx.Client(base_url=b.base_url), agent["id"])
                 if m["message_type"] == "user_message" and m["content"] == "first")
    edited = httpx.patch(f"{b.base_url}/v1/agents/{agent['id']}/messages/{first['id']}", timeout=60,
                         json={"message_type": "user_message", "content": "first (edited)"})
    assert edited.status_code == 200, edited.text
    assert _send(b.base_url, agent["id"], "second").status_code == 200
    assert _send(a.base_url, agent["id"], "third").status_code == 200

    sent = [m.get("content") for m in model.requests[-1]["messages"]]
    assert [c for c in sent if c in ("first", "first (edited)", "second", "third")] == \
        ["first (edited)", "second", "third"]


def test_uvicorn_workers_share_agents(make_server, model):
    """On SQLite (one file, agent locks across processes) as on Postgres."""
    srv = make_server({"LETTA_UVICORN_WORKERS": "2"})
    workers = [p for p in psutil.Process(srv.proc.pid).children(recursive=True) if "python" in p.name()]
    assert len(workers) >= 2, f"expected two worker processes, found {workers}"
    agents = [httpx.post(f"{srv.base_url}/v1/agents/", json={"model": model.handle, "embedding": EMBEDDING},
                         timeout=60).json()["id"] for _ in range(4)]
    for _ in range(4 * 5):
        model.script.push_tool_call("send_message", {"message": "ok"})
    statuses: list[int] = []

    async def main() -> None:
        # no keep-alive: each request is a new connection, spread over the workers by the kernel
        limits = httpx.Limits(max_keepalive_connections=0)
        async with httpx.AsyncClient(base_url=srv.base_url, timeout=120, limits=limits) as c:
            async def one(agent_id: str, i: int) -> None:
                r = await c.post(f"/v1/agents/{agent_id}/messages",
                                 json={"messages": [{"role": "user", "content": f"{agent_id} {i}"}]})
                statuses.append(r.status_code)

            async with anyio.create_task_group() as tg:
                for i in range(5):
                    for agent_id in agents:
                        tg.start_soon(one, agent_id, i)

    anyio.run(main)
    assert statuses == [200] * 20
    with httpx.Client(base_url=srv.base_url, timeout=60) as c:
        for agent_id in agents:
            turns = [m for m in history(c, agent_id) if m["message_type"] in ("user_message", "assistant_message")]
            users = [m for m in turns if m["message_type"] == "user_message" and m["content"].startswith(agent_id)]
            assert len(users) == 5, "every turn written once"
            kinds = [m["message_type"] for m in turns if m["message_type"] != "user_message" or m in users]
            assert kinds[-10:] == ["user_message", "assistant_message"] * 5, "turns did not interleave"
