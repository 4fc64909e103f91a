"""Letta 0.16.8 routes served on the existing objects: a stored provider retrieved, checked and refreshed;
messages listed and searched across agents; the POST export and the system-prompt recompile; the legacy MCP
connect and tool execute."""

from __future__ import annotations

import json
import sys
import uuid

import pytest

from tests.mcp_client.mcp_peers import PEER_SERVER
from tests.support.scripted_llm import ScriptedLLM

V1 = {"X-Stainless-Package-Version": "1.12.1", "X-Stainless-Lang": "python"}
KEY = "sk-routes-b-7d1e2f3a4b5c"
MISSING_AGENT = "agent-123e4567-e89b-42d3-8456-426614174000"
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


def test_post_export_shares_the_agent_file_with_its_options(http):
    word = f"delta{uuid.uuid4().hex[:8]}"
    agent_id = _agent_said(http, word)
    other_id = _agent_said(http, "another agent")

    full = http.post(f"/v1/agents/{agent_id}/export", headers=V1)
    assert full.status_code == 200, full.text
    assert word in json.dumps(full.json()["messages"])
    assert full.json() == http.get(f"/v1/agents/{agent_id}/export").json(), "the GET export, shared"

    scrubbed = http.post(f"/v1/agents/{agent_id}/export", json={"scrub_messages": True}).json()
    assert scrubbed["messages"] == [] and scrubbed["in_context_message_indices"] == []
    assert scrubbed["system"] == full.json()["system"]
    imported = http.post("/v1/agents/import", files={"file": ("a.af", json.dumps(scrubbed).encode(), "application/json")})
    assert imported.status_code == 200, imported.text
    history = http.get(f"/v1/agents/{imported.json()['id']}/messages", params={"limit": 50}).json()
    assert word not in json.dumps(history) and [m["message_type"] for m in history] == ["system_message"]

    # A conversation's export holds only what was said since the conversation began.
    conv = http.post("/v1/conversations/", params={"agent_id": agent_id}, headers=V1, json={}).json()
    since = http.post(f"/v1/agents/{agent_id}/export", json={"conversation_id": conv["id"]}).json()
    assert word not in json.dumps(since["messages"])
    assert http.post(f"/v1/agents/{other_id}/export", json={"conversation_id": conv["id"]}).status_code == 404

    refused = http.post(f"/v1/agents/{agent_id}/export", json={"skills": [{"name": "s", "files": {}}]})
    assert refused.status_code == 400 and "skills" in refused.json()["detail"]
    assert http.post(f"/v1/agents/{agent_id}/export", json={"scrub_messages": "maybe"}).status_code == 422
    assert http.post(f"/v1/agents/{MISSING_AGENT}/export").status_code == 404


def test_system_prompt_recompile_shows_the_current_memory(http):
    agent = http.post("/v1/agents/", json={"model": "openai-proxy/gpt-4o-mini", "embedding": "openai/text-embedding-3-small",
                                           "memory_blocks": [{"label": "human", "value": "likes tea"}]}).json()
    block = next(b for b in agent["memory"]["blocks"] if b["label"] == "human")
    fact = f"likes coffee {uuid.uuid4().hex[:8]}"
    assert http.patch(f"/v1/blocks/{block['id']}", json={"value": fact}).status_code == 200

    path = f"/v1/agents/{agent['id']}/system-prompt/recompile"
    dry = http.post(path, params={"dry_run": True}, headers=V1)
    assert dry.status_code == 200, dry.text
    assert fact in dry.json() and "likes tea" not in dry.json()
    assert dry.json() == http.post(f"/v1/agents/{agent['id']}/recompile", params={"dry_run": True}).json()

    stored = http.post(path)
    assert stored.status_code == 200 and fact in stored.json()
    system = http.get(f"/v1/agents/{agent['id']}/messages", params={"order": "asc", "limit": 1}, headers=V1).json()
    assert system[0]["message_type"] == "system_message" and fact in system[0]["content"]
    assert http.post(f"/v1/agents/{MISSING_AGENT}/system-prompt/recompile").status_code == 404


def _events(response) -> list[dict]:
    return [json.loads(line[5:]) for line in response.text.splitlines() if line.startswith("data:")]


def test_legacy_mcp_connect_tries_a_config_and_execute_runs_a_tool_through_the_pool(http):
    name = f"peer{uuid.uuid4().hex[:8]}"
    config = {"server_name": name, "type": "stdio", "command": sys.executable, "args": [str(PEER_SERVER)]}

    connected = http.post("/v1/tools/mcp/servers/connect", json=config, headers=V1)
    assert connected.status_code == 200 and connected.headers["content-type"].startswith("text/event-stream")
    events = _events(connected)
    assert [e["event"] for e in events] == ["connection_attempt", "success"]
    assert {"add", "echo"} <= {t["name"] for t in events[1]["tools"]}
    assert name not in http.get("/v1/tools/mcp/servers").json(), "connect tries the config, stores nothing"
    broken = _events(http.post("/v1/tools/mcp/servers/connect", json={**config, "command": "/nonexistent/peer"}))
    assert [e["event"] for e in broken] == ["connection_attempt", "error"] and broken[1]["message"]
    assert http.post("/v1/tools/mcp/servers/connect", json={"type": "stdio"}).status_code == 422

    assert http.put("/v1/tools/mcp/servers", json=config).status_code == 200
    try:
        base = f"/v1/tools/mcp/servers/{name}/tools"
        ran = http.post(f"{base}/add/execute", json={"args": {"a": 2, "b": 3}})
        assert ran.status_code == 200, ran.text
        assert ran.json()["success"] is True and ran.json()["result"] in ("5", "5.0")
        failed = http.post(f"{base}/fail/execute", json={"args": {}}).json()
        assert failed["success"] is False and "boom" in failed["result"]
        assert http.post(f"{base}/nope/execute", json={"args": {}}).status_code == 404
        assert http.post(f"{base}/add/execute", json={"args": "2+3"}).status_code == 422
        assert http.post(f"/v1/tools/mcp/servers/{name}x/tools/add/execute", json={"args": {}}).status_code == 404
    finally:
        http.delete(f"/v1/tools/mcp/servers/{name}")
