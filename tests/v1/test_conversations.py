"""1.x conversations over raw HTTP: CRUD, messages streamed by default, listing, fork, cancel, recompile."""

from __future__ import annotations

import uuid

from tests.v1.test_shared_routes import V1
from tests.v1.test_streaming import events
from tests.v1.test_v1_agent import create


def test_a_conversation_streams_its_turn_lists_its_messages_and_forks(http, scripted_llm):
    model = f"v1c-{uuid.uuid4().hex[:6]}"
    agent = create(http, model, V1)["id"]
    made = http.post("/v1/conversations/", params={"agent_id": agent}, headers=V1, json={"summary": "first"})
    assert made.status_code == 200, made.text
    conv = made.json()
    assert conv["id"].startswith("conv-") and conv["agent_id"] == agent and conv["summary"] == "first"
    assert http.get(f"/v1/conversations/{conv['id']}", headers=V1).json()["summary"] == "first"

    scripted_llm.for_model(model).push_text("hello back")
    got = events(http.post(f"/v1/conversations/{conv['id']}/messages", headers=V1,
                           json={"messages": [{"role": "user", "content": "hello conversation"}]}).text)
    kinds = [e if isinstance(e, str) else e["message_type"] for e in got]
    assert kinds == ["ping", "assistant_message", "stop_reason", "usage_statistics", "[DONE]"]
    assert got[1]["content"] == "hello back"

    listed = http.get(f"/v1/conversations/{conv['id']}/messages", headers=V1,
                      params={"include_return_message_types": ["user_message", "assistant_message"]}).json()
    assert [m["message_type"] for m in listed] == ["assistant_message", "user_message"]  # desc by default
    assert listed[1]["content"] == "hello conversation"

    renamed = http.patch(f"/v1/conversations/{conv['id']}", headers=V1, json={"summary": "renamed"}).json()
    assert renamed["summary"] == "renamed"
    fork = http.post(f"/v1/conversations/{conv['id']}/fork", headers=V1).json()
    assert fork["id"] != conv["id"] and fork["agent_id"] == agent
    assert {c["id"] for c in http.get("/v1/conversations/", params={"agent_id": agent}).json()} == \
        {conv["id"], fork["id"]}
    assert http.post(f"/v1/conversations/{conv['id']}/cancel", headers=V1).json() == {}
    assert "<base_instructions>" in http.post(f"/v1/conversations/{conv['id']}/recompile", headers=V1).json()
    assert http.delete(f"/v1/conversations/{fork['id']}", headers=V1).status_code == 200
    gone = http.get(f"/v1/conversations/{fork['id']}", headers=V1)
    assert gone.status_code == 404 and fork["id"] in gone.text


def test_a_conversation_for_an_unknown_agent_is_a_404_and_a_missing_agent_id_a_422(http):
    missing = http.post("/v1/conversations/", params={"agent_id": "agent-00000000-0000-4000-8000-000000000000"},
                        json={})
    assert missing.status_code == 404 and "agent-00000000" in missing.text
    assert http.post("/v1/conversations/", json={}).status_code == 422
