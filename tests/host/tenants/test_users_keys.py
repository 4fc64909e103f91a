"""Organizations, users and per-user API keys on a server with a password (SECURE=true)."""

from __future__ import annotations

import hashlib

import httpx
import pytest

from tests.host.tenants.stored import stored_bytes

DEFAULT_ORG = "org-00000000-0000-4000-8000-000000000000"
DEFAULT_USER = "user-00000000-0000-4000-8000-000000000000"
ADMIN = {"Authorization": "Bearer secret"}


@pytest.fixture
def secure(make_server):
    return make_server({"SECURE": "true", "LETTA_SERVER_PASSWORD": "secret"})


def _bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


def test_orgs_users_and_keys(secure):
    with httpx.Client(base_url=secure.base_url, timeout=60) as http:
        # The default organization and user exist.
        orgs = http.get("/v1/admin/orgs/", headers=ADMIN)
        assert orgs.status_code == 200, orgs.text
        assert DEFAULT_ORG in [o["id"] for o in orgs.json()]
        assert DEFAULT_USER in [u["id"] for u in http.get("/v1/admin/users/", headers=ADMIN).json()]
        assert http.get("/v1/admin/users/").status_code == 401

        org = http.post("/v1/admin/orgs/", json={"name": "acme"}, headers=ADMIN).json()
        assert org["name"] == "acme" and org["id"].startswith("org-")
        renamed = http.patch("/v1/admin/orgs/", params={"org_id": org["id"]}, json={"name": "acme2"}, headers=ADMIN)
        assert renamed.status_code == 200 and renamed.json()["name"] == "acme2"
        user = http.post("/v1/admin/users/", json={"name": "bob", "organization_id": org["id"]}, headers=ADMIN).json()
        assert user["organization_id"] == org["id"] and user["name"] == "bob"
        put = http.put("/v1/admin/users/", json={"id": user["id"], "name": "bobby"}, headers=ADMIN)
        assert put.status_code == 200 and put.json()["name"] == "bobby"
        bad_org = http.post("/v1/admin/users/", json={"name": "x", "organization_id": "org-nope"}, headers=ADMIN)
        assert bad_org.status_code == 400 and "malformed org id" in bad_org.json()["detail"]

        # A key is shown once, listed by prefix only.
        created = http.post(f"/v1/admin/users/{user['id']}/keys", json={"name": "laptop"}, headers=ADMIN)
        assert created.status_code == 200, created.text
        key = created.json()["key"]
        assert key.startswith("ahk-") and len(key) > 40
        listed = http.get(f"/v1/admin/users/{user['id']}/keys", headers=ADMIN).json()
        assert [k["prefix"] for k in listed] == [key[:12]] and listed[0]["key"] is None
        assert key not in http.get(f"/v1/admin/users/{user['id']}/keys", headers=ADMIN).text

        # The key acts as its user.
        assert http.get("/v1/agents/", headers=_bearer(key)).status_code == 200
        assert http.get("/v1/agents/", headers={**_bearer(key), "user_id": user["id"]}).status_code == 200
        other = http.get("/v1/agents/", headers={**_bearer(key), "user_id": DEFAULT_USER})
        assert other.status_code == 403 and "another user" in other.json()["detail"]
        assert http.get("/v1/admin/users/", headers=_bearer(key)).status_code == 403
        assert http.post(f"/v1/admin/users/{user['id']}/keys", headers=_bearer(key)).status_code == 403
        assert http.get("/v1/agents/", headers=_bearer("ahk-" + "x" * 43)).status_code == 401

        # The admin picks a user with the user_id header; a malformed or unknown one is a 4xx.
        assert http.get("/v1/agents/", headers={**ADMIN, "user_id": user["id"]}).status_code == 200
        assert http.get("/v1/agents/", headers={**ADMIN, "user_id": "bob"}).status_code == 400
        unknown = http.get("/v1/agents/", headers={**ADMIN, "user_id": "user-00000000-0000-4000-8000-00000000dead"})
        assert unknown.status_code == 404

        # Stored hashed: the key is nowhere in the database, its SHA-256 is.
        raw = stored_bytes(secure, ("api_keys",))
        assert key.encode() not in raw
        assert hashlib.sha256(key.encode()).hexdigest().encode() in raw

        # Revoked: a 401 at the very next request.
        key_id = listed[0]["id"]
        revoked = http.delete(f"/v1/admin/users/{user['id']}/keys/{key_id}", headers=ADMIN)
        assert revoked.status_code == 200 and revoked.json()["revoked_at"]
        gone = http.get("/v1/agents/", headers=_bearer(key))
        assert gone.status_code == 401 and "revoked" in gone.json()["detail"]

        # Deleting: the organization refuses while it owns a user; the default user and org stay.
        refused = http.delete("/v1/admin/orgs/", params={"org_id": org["id"]}, headers=ADMIN)
        assert refused.status_code == 409 and "user" in refused.json()["detail"]
        assert http.delete("/v1/admin/users/", params={"user_id": DEFAULT_USER}, headers=ADMIN).status_code == 409
        assert http.delete("/v1/admin/orgs/", params={"org_id": DEFAULT_ORG}, headers=ADMIN).status_code == 409
        deleted = http.delete("/v1/admin/users/", params={"user_id": user["id"]}, headers=ADMIN)
        assert deleted.status_code == 200 and deleted.json()["id"] == user["id"]
        assert http.delete("/v1/admin/orgs/", params={"org_id": org["id"]}, headers=ADMIN).status_code == 200
        assert org["id"] not in [o["id"] for o in http.get("/v1/admin/orgs/", headers=ADMIN).json()]
        missing = http.delete("/v1/admin/users/", params={"user_id": user["id"]}, headers=ADMIN)
        assert missing.status_code == 404
