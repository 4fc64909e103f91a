"""Attaching or detaching a block marks the agent's stored system prompt stale instead of compiling it (that
work grew with the agent, issue 23): the next turn's prompt and the next read of the stored system message
still show the block, on one server and on a second server process sharing the Postgres database."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests import conftest as shared
from tests.conftest import PG_ADMIN_URI
from tests.host.agent.conftest import EMBEDDING, Model, history, send


def _block(http: httpx.Client, label: str, value: str) -> str:
    resp = http.post("/v1/blocks/", json={"label": label, "value": value})
    assert resp.status_code == 200, resp.text
    return resp.json()["id"]


def _stored_system(http: httpx.Client, agent_id: str) -> str:
    first = history(http, agent_id)[0]
    assert first["message_type"] == "system_message", first
    return first["content"]


def _attach(http: httpx.Client, agent_id: str, block_id: str, verb: str = "attach") -> dict[str, Any]:
    resp = http.patch(f"/v1/agents/{agent_id}/core-memory/blocks/{verb}/{block_id}")
    assert resp.status_code == 200, resp.text
    return resp.json()


def test_an_attached_block_is_in_the_next_turns_prompt_and_in_the_stored_system_message(http, make_agent, model):
    agent = make_agent()
    block = _block(http, "project", "The otter census is due on Friday.")
    _attach(http, agent["id"], block)

    assert "The otter census is due on Friday." in _stored_system(http, agent["id"])
    first = len(model.requests)
    assert send(http, agent["id"], "what is due?").status_code == 200
    assert "<project>" in model.system(first) and "The otter census is due on Friday." in model.system(first)

    _attach(http, agent["id"], block, "detach")
    assert "otter census" not in _stored_system(http, agent["id"])
    first = len(model.requests)
    assert send(http, agent["id"], "and now?").status_code == 200
    assert "otter census" not in model.system(first)


def test_a_stored_prompt_left_stale_by_several_attaches_shows_all_of_them(http, make_agent, model):
    agent = make_agent()
    for i in range(3):
        _attach(http, agent["id"], _block(http, f"note{i}", f"note number {i} for the otters"))
    exported = http.get(f"/v1/agents/{agent['id']}/export")  # the first read after the attaches
    assert exported.status_code == 200, exported.text
    stored = exported.json()["messages"][0]["content"][0]["text"]
    assert all(f"note number {i} for the otters" in stored for i in range(3))
    assert stored.index("<note0>") < stored.index("<note1>") < stored.index("<note2>")  # in attach order
    assert _stored_system(http, agent["id"]) == stored  # compiled once: the next read shows the same text


def test_editing_the_system_message_after_an_attach_keeps_the_edit(http, make_agent, model):
    agent = make_agent()
    state = _attach(http, agent["id"], _block(http, "later", "attached before the edit"))
    system_id = state["message_ids"][0]  # no read of the messages between the attach and the edit
    resp = http.patch(f"/v1/agents/{agent['id']}/messages/{system_id}",
                      json={"message_type": "system_message", "content": "A hand-written prompt."})
    assert resp.status_code == 200, resp.text
    assert _stored_system(http, agent["id"]) == "A hand-written prompt."


@pytest.mark.skipif(PG_ADMIN_URI is None, reason="two server processes share a Postgres database; runs in the "
                    "Postgres pass")
def test_an_attach_made_through_one_process_is_in_the_prompt_another_process_shows(make_server, tmp_path,
                                                                                   model: Model):
    uri = shared.test_database_uri()
    one, two = (make_server(home=tmp_path / f"host{i}", pg_uri=uri) for i in range(2))
    with httpx.Client(base_url=one.base_url, timeout=60) as a, httpx.Client(base_url=two.base_url, timeout=60) as b:
        resp = a.post("/v1/agents/", json={"model": model.handle, "embedding": EMBEDDING,
                                           "memory_blocks": [{"label": "human", "value": "Name: Ada"}]})
        assert resp.status_code == 200, resp.text
        agent_id = resp.json()["id"]
        assert "Name: Ada" in _stored_system(b, agent_id)  # read once by the second process
        _attach(a, agent_id, _block(a, "shared", "Attached through the first process."))

        assert "Attached through the first process." in _stored_system(b, agent_id)
        first = len(model.requests)
        assert send(b, agent_id, "hello").status_code == 200
        assert "Attached through the first process." in model.system(first)
