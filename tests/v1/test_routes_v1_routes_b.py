"""Letta 0.16.8 routes served on the existing objects: a stored provider retrieved, checked and refreshed."""

from __future__ import annotations

import uuid

import pytest

from tests.support.scripted_llm import ScriptedLLM

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
