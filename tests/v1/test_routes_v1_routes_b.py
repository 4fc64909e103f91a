"""Letta 0.16.8 routes served on the existing objects: a stored provider retrieved, checked and refreshed;
messages listed and searched across agents."""

from __future__ import annotations

import uuid

import pytest

from tests.support.scripted_llm import ScriptedLLM

V1 = {"X-Stainless-Package-Version": "1.12.1", "X-Stainless-Lang": "python"}
KEY = "sk-routes-b-7d1e2f3a4b5c"
MISSING_PROVIDER = "provider-123e4567-e89b-42d3-8456-426614174000"


@pytest.fixture
def byok_llm():
    with ScriptedLLM(models=["bee-chat"], required_key=KEY) as llm:
        yield llm


def test_a_stored_provider_is_retrieved_checked_with_its_own_key_and_refreshed(http, byok_llm):
    name = f"bee{uuid.uuid4().hex[:8]}"
    created = http.post("/v1/providers/", json={"name": name, "provider_type": "openai", "api_key": KEY,
                                                "base_url": byok_llm.base_url})
    assert created.status_code == 200, created.text
    provider = created.json()
    try:
        got = http.get(f"/v1/providers/{provider['id']}")
        assert got.status_code == 200, got.text
        assert got.json()["name"] == name and got.json()["api_key"] != KEY and KEY not in got.text

        checked = http.post(f"/v1/providers/{provider['id']}/check")
        assert checked.status_code == 200, checked.text
        assert "openai" in checked.json()["message"]

        refreshed = http.patch(f"/v1/providers/{provider['id']}/refresh")
        assert refreshed.status_code == 200, refreshed.text
        assert refreshed.json()["id"] == provider["id"] and refreshed.json()["updated_at"] >= provider["updated_at"]
        assert f"{name}/bee-chat" in [m["handle"] for m in http.get("/v1/models/").json()]

        # A rotated (wrong) key: the check and the refresh now fail, naming the refusal.
        assert http.patch(f"/v1/providers/{provider['id']}", json={"api_key": "sk-wrong"}).status_code == 200
        refused = http.post(f"/v1/providers/{provider['id']}/check")
        assert refused.status_code == 400 and "refused the key" in refused.json()["detail"]
        assert http.patch(f"/v1/providers/{provider['id']}/refresh").status_code == 400
    finally:
        assert http.delete(f"/v1/providers/{provider['id']}").status_code == 200

    for method, suffix in (("GET", ""), ("POST", "/check"), ("PATCH", "/refresh")):
        assert http.request(method, f"/v1/providers/{provider['id']}{suffix}").status_code == 404
        assert http.request(method, f"/v1/providers/{MISSING_PROVIDER}{suffix}").status_code == 404


def _agent_said(http, text: str) -> str:
    agent = http.post("/v1/agents/", json={"model": "openai-proxy/gpt-4o-mini",
                                           "embedding": "openai/text-embedding-3-small"})
    assert agent.status_code == 200, agent.text
    sent = http.post(f"/v1/agents/{agent.json()['id']}/messages",
                     json={"messages": [{"role": "user", "content": text}]})
    assert sent.status_code == 200, sent.text
    return agent.json()["id"]


def test_messages_are_listed_across_agents_page_by_page(http):
    word_a, word_b = f"alpha{uuid.uuid4().hex[:8]}", f"bravo{uuid.uuid4().hex[:8]}"
    _agent_said(http, word_a)
    _agent_said(http, word_b)

    whole = http.get("/v1/messages/", params={"limit": 10000}, headers=V1)
    assert whole.status_code == 200, whole.text
    contents = [m.get("content") for m in whole.json()]
    assert word_a in contents and word_b in contents, "both agents' messages are listed"
    assert contents.index(word_b) < contents.index(word_a), "newest first by default"

    # Page by page (the SDK's auto-pagination: after=<last id>, stop on an empty page): each message once.
    whole_keys = [(m["id"], m["message_type"]) for m in whole.json()]
    paged: list[tuple[str, str]] = []
    after = None
    while page := http.get("/v1/messages", params={"limit": 3, **({"after": after} if after else {})}).json():
        assert len(page) <= 3
        paged += [(m["id"], m["message_type"]) for m in page]
        after = page[-1]["id"]
        assert len(paged) <= len(whole_keys)
    assert paged == whole_keys

    oldest = http.get("/v1/messages", params={"order": "asc", "limit": 10000}).json()
    assert len(oldest) == len(whole_keys)
    assert oldest[0]["id"] == whole_keys[-1][0] and oldest[-1]["id"] == whole_keys[0][0]
    users = http.get("/v1/messages", params={"include_return_message_types": "user_message", "limit": 3}).json()
    assert len(users) == 3 and {m["message_type"] for m in users} == {"user_message"}
    assert users[0]["content"] == word_b

    assert http.get("/v1/messages", params={"conversation_id": "conv-nope"}).status_code == 404
    assert http.get("/v1/messages", params={"order": "sideways"}).status_code == 422


def test_agents_messages_search_answers_stored_messages_with_ranks(http):
    word = f"charlie{uuid.uuid4().hex[:8]}"
    agent_a = _agent_said(http, f"remember {word} please")
    agent_b = _agent_said(http, "nothing to see")

    found = http.post("/v1/agents/messages/search", json={"query": word, "roles": ["user"]}, headers=V1)
    assert found.status_code == 200, found.text
    results = found.json()
    assert len(results) == 1
    hit = results[0]
    assert hit["message"]["agent_id"] == agent_a and hit["message"]["role"] == "user"
    assert word in hit["embedded_text"] and hit["fts_rank"] == 1 and hit["rrf_score"] > 0
    # The same search as /v1/messages/search finds the same message.
    same = http.post("/v1/messages/search", json={"query": word}).json()
    assert hit["message"]["id"] in {m["id"] for m in same}

    assert http.post("/v1/agents/messages/search", json={"query": word, "agent_id": agent_b}).json() == []
    assert http.post("/v1/agents/messages/search", json={"query": word, "roles": ["system"]}).json() == []
    assert http.post("/v1/agents/messages/search", json={"query": word, "limit": 101}).status_code == 422
    assert http.post("/v1/agents/messages/search", json={"roles": ["nobody"]}).status_code == 422
