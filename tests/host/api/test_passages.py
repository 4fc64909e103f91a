"""Archival memory: insert, list, modify, delete through the SDK; search with embeddings from the scripted
server, and by full text for an agent that has no embedding provider."""

from __future__ import annotations

import httpx
import pytest
from letta_client.core.api_error import ApiError

FACTS = [
    "The cat sat on the warm mat by the window.",
    "Quarterly revenue grew twelve percent in the north region.",
    "Grace Hopper popularised the term debugging.",
]


def test_insert_list_modify_delete(client, make_agent):
    agent = make_agent()
    inserted = [client.agents.passages.create(agent_id=agent.id, text=t)[0] for t in FACTS]
    assert all(p.id.startswith("passage-") and p.agent_id == agent.id for p in inserted)
    assert inserted[0].embedding and len(inserted[0].embedding) > 0, "the scripted server embedded the text"

    listed = client.agents.passages.list(agent_id=agent.id)
    assert [p.text for p in listed] == FACTS
    assert [p.text for p in client.agents.passages.list(agent_id=agent.id, search="revenue")] == [FACTS[1]]
    assert [p.id for p in client.agents.passages.list(agent_id=agent.id, limit=1, after=inserted[0].id)] \
        == [inserted[1].id]

    modified = client.agents.passages.modify(agent_id=agent.id, memory_id=inserted[1].id, id=inserted[1].id,
                                             text="Quarterly revenue grew fifteen percent.")
    assert modified[0].text == "Quarterly revenue grew fifteen percent."

    client.agents.passages.delete(agent_id=agent.id, memory_id=inserted[0].id)
    assert [p.id for p in client.agents.passages.list(agent_id=agent.id)] == [inserted[1].id, inserted[2].id]
    with pytest.raises(ApiError) as info:
        client.agents.passages.delete(agent_id=agent.id, memory_id=inserted[0].id)
    assert info.value.status_code == 404


def test_search_with_embeddings_ranks_the_matching_passage_first(client, http, make_agent):
    agent = make_agent()
    assert agent.embedding_config.embedding_dim > 0
    for text in FACTS:
        client.agents.passages.create(agent_id=agent.id, text=text)

    resp = http.get(f"/v1/agents/{agent.id}/archival-memory/search", params={"query": "who coined debugging"})
    assert resp.status_code == 200, resp.text
    body = resp.json()
    assert body["results"][0]["content"] == FACTS[2]
    assert body["count"] == len(body["results"])


def test_agent_without_an_embedding_provider_still_searches_by_full_text(make_server):
    bare = make_server(llm=False)
    with httpx.Client(base_url=bare.base_url, timeout=30) as http:
        assert http.get("/v1/models/embedding").json() == []
        llm_config = {"model": "gpt-4o-mini", "model_endpoint_type": "openai",
                      "model_endpoint": "http://127.0.0.1:9/v1", "context_window": 8192}
        resp = http.post("/v1/agents/", json={"name": "no-embeddings", "llm_config": llm_config})
        assert resp.status_code == 200, resp.text
        agent = resp.json()
        assert agent["embedding_config"]["embedding_dim"] == 0

        for text in FACTS:
            resp = http.post(f"/v1/agents/{agent['id']}/archival-memory", json={"text": text})
            assert resp.status_code == 200, resp.text
            assert not resp.json()[0]["embedding"]

        resp = http.get(f"/v1/agents/{agent['id']}/archival-memory/search", params={"query": "revenue region"})
        assert resp.status_code == 200, resp.text
        assert [r["content"] for r in resp.json()["results"]] == [FACTS[1]]
