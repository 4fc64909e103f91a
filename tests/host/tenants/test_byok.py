"""Bring-your-own providers: an organization's own OpenAI-compatible provider (a second scripted server that
accepts only its own key), used by that organization's agents and invisible to another organization."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import httpx
import pytest

from tests.host.tenants.stored import stored_bytes
from tests.support.scripted_llm import ScriptedLLM

ADMIN = {"Authorization": "Bearer secret"}
BYOK_KEY = "sk-byok-3c1f0e9d2b7a4c5e8f6a"


@pytest.fixture
def byok_llm():
    with ScriptedLLM(models=["acme-chat", "acme-embed"], required_key=BYOK_KEY) as llm:
        yield llm


@pytest.fixture
def secure(make_server):
    return make_server({"SECURE": "true", "LETTA_SERVER_PASSWORD": "secret"})


def _user_key(http: httpx.Client, org_name: str) -> tuple[dict[str, str], str]:
    org = http.post("/v1/admin/orgs/", json={"name": org_name}, headers=ADMIN).json()
    user = http.post("/v1/admin/users/", json={"name": f"{org_name}-user", "organization_id": org["id"]},
                     headers=ADMIN).json()
    key = http.post(f"/v1/admin/users/{user['id']}/keys", headers=ADMIN).json()["key"]
    return {"Authorization": f"Bearer {key}"}, org["id"]


def test_byok_end_to_end(secure, byok_llm):
    with httpx.Client(base_url=secure.base_url, timeout=60) as http:
        alice, alice_org = _user_key(http, "alpha")
        bob, _ = _user_key(http, "beta")

        # check validates a key against the provider and stores nothing.
        check = {"provider_type": "openai", "base_url": byok_llm.base_url}
        wrong = http.post("/v1/providers/check", json={**check, "api_key": "sk-wrong"}, headers=alice)
        assert wrong.status_code == 400 and "refused the key" in wrong.json()["detail"]
        right = http.request("GET", "/v1/providers/check", json={**check, "api_key": BYOK_KEY}, headers=alice)
        assert right.status_code == 200, right.text
        assert http.get("/v1/providers/", headers=alice).json() == []

        created = http.post("/v1/providers/", headers=alice, json={
            "name": "acme", "provider_type": "openai", "api_key": BYOK_KEY, "base_url": byok_llm.base_url})
        assert created.status_code == 200, created.text
        provider = created.json()
        assert provider["api_key"] != BYOK_KEY and BYOK_KEY not in created.text
        assert provider["organization_id"] == alice_org and provider["provider_category"] == "byok"
        duplicate = http.post("/v1/providers/", headers=alice, json={
            "name": "acme", "provider_type": "openai", "api_key": BYOK_KEY, "base_url": byok_llm.base_url})
        assert duplicate.status_code == 409
        assert BYOK_KEY not in http.get("/v1/providers/", headers=alice).text

        # Its models are listed for its organization only.
        handles = [m["handle"] for m in http.get("/v1/models/", headers=alice).json()]
        assert "acme/acme-chat" in handles and "openai-proxy/gpt-4o-mini" in handles, "the environment providers stay"
        assert "acme/acme-embed" in [m["handle"] for m in http.get("/v1/models/embedding", headers=alice).json()]
        assert not [h for h in (m["handle"] for m in http.get("/v1/models/", headers=bob).json()) if h.startswith("acme/")]
        assert http.get("/v1/providers/", headers=bob).json() == []

        # The organization's agent talks to its provider with its key (the provider refuses any other).
        agent = http.post("/v1/agents/", headers=alice, json={
            "model": "acme/acme-chat", "embedding": "openai/text-embedding-3-small"})
        assert agent.status_code == 200, agent.text
        assert agent.json()["llm_config"]["provider_category"] == "byok"
        assert BYOK_KEY not in agent.text
        reply = http.post(f"/v1/agents/{agent.json()['id']}/messages", headers=alice,
                          json={"messages": [{"role": "user", "content": "hello byok"}]})
        assert reply.status_code == 200, reply.text
        said = [m for m in reply.json()["messages"] if m["message_type"] == "assistant_message"]
        assert said and said[0]["content"] == "hello byok"
        assert byok_llm.requests_for("acme-chat"), "the call went to the organization's provider"

        # Its embedding model embeds with its key too.
        embedded = http.post("/v1/agents/", headers=alice, json={"model": "acme/acme-chat", "embedding": "acme/acme-embed"})
        assert embedded.status_code == 200, embedded.text
        passage = http.post(f"/v1/agents/{embedded.json()['id']}/archival-memory", headers=alice, json={"text": "a fact"})
        assert passage.status_code == 200, passage.text
        assert byok_llm.embedding_requests, "the embedding went to the organization's provider"

        # Another organization can neither use, see, change nor delete it.
        refused = http.post("/v1/agents/", headers=bob, json={
            "model": "acme/acme-chat", "embedding": "openai/text-embedding-3-small"})
        assert refused.status_code == 422
        assert http.patch(f"/v1/providers/{provider['id']}", json={"api_key": "x"}, headers=bob).status_code == 404
        assert http.delete(f"/v1/providers/{provider['id']}", headers=bob).status_code == 404

        # Encrypted at rest: the key is nowhere in the database; the server key file is owner-only.
        assert BYOK_KEY.encode() not in stored_bytes(secure, ("providers",))
        key_file = Path(secure.home) / "secret.key"
        assert key_file.exists() and stat.S_IMODE(os.stat(key_file).st_mode) == 0o600

        # A new key takes effect at once; deleting the provider removes its models.
        assert http.patch(f"/v1/providers/{provider['id']}", json={"api_key": "sk-rotated"},
                          headers=alice).status_code == 200
        failed = http.post(f"/v1/agents/{agent.json()['id']}/messages", headers=alice,
                           json={"messages": [{"role": "user", "content": "again"}]})
        assert failed.status_code >= 400
        assert http.delete(f"/v1/providers/{provider['id']}", headers=alice).status_code == 200
        assert not [m for m in http.get("/v1/models/", headers=alice).json() if m["handle"].startswith("acme/")]


def test_bad_provider_input(secure):
    with httpx.Client(base_url=secure.base_url, timeout=60) as http:
        bad_type = http.post("/v1/providers/", headers=ADMIN, json={"name": "x", "provider_type": "nope", "api_key": "k"})
        assert bad_type.status_code == 422
        no_base = http.post("/v1/providers/", headers=ADMIN, json={"name": "x", "provider_type": "vllm", "api_key": "k"})
        assert no_base.status_code == 400 and "base_url" in no_base.json()["detail"]
        slash = http.post("/v1/providers/", headers=ADMIN, json={"name": "a/b", "provider_type": "openai", "api_key": "k"})
        assert slash.status_code == 422
        reserved = http.post("/v1/providers/", headers=ADMIN, json={"name": "openai", "provider_type": "openai", "api_key": "k"})
        assert reserved.status_code == 400 and "reserved" in reserved.json()["detail"]
        assert http.delete("/v1/providers/provider-nope", headers=ADMIN).status_code == 404


def test_an_upload_to_a_source_on_an_organizations_own_embedding_model_is_embedded_with_its_key(secure, byok_llm):
    from tests.support.waiting import wait_until

    with httpx.Client(base_url=secure.base_url, timeout=60) as http:
        alice, _ = _user_key(http, "ingest")
        created = http.post("/v1/providers/", headers=alice, json={
            "name": "acme", "provider_type": "openai", "api_key": BYOK_KEY, "base_url": byok_llm.base_url})
        assert created.status_code == 200, created.text
        source = http.post("/v1/sources/", headers=alice, json={"name": "byok-docs", "embedding": "acme/acme-embed"})
        assert source.status_code == 200, source.text
        source_id = source.json()["id"]
        before = len(byok_llm.embedding_requests)
        upload = http.post(f"/v1/sources/{source_id}/upload", headers=alice, files={
            "file": ("notes.txt", b"The heron waits in the shallow river.", "text/plain")})
        assert upload.status_code == 200, upload.text
        path = f"/v1/sources/{source_id}/files/{upload.json()['id']}"
        wait_until(lambda: http.get(path, headers=alice).json()["processing_status"] in ("completed", "error"),
                   what="the upload to be ingested", timeout=60)
        file = http.get(path, headers=alice).json()
        assert file["processing_status"] == "completed", file["error_message"]
        assert len(byok_llm.embedding_requests) > before, "the chunks went to the organization's provider"
        passages = http.get(f"/v1/sources/{source_id}/passages", headers=alice).json()
        assert [p["text"] for p in passages] == ["The heron waits in the shallow river."]
