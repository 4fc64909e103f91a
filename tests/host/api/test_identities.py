"""Identities through the SDK: create, upsert, properties, list, retrieve, modify, delete, agents by identity."""

from __future__ import annotations

import pytest
from letta_client.core.api_error import ApiError


@pytest.fixture
def identities(client):
    ids: list[str] = []
    yield ids
    for identity_id in ids:
        try:
            client.identities.delete(identity_id=identity_id)
        except ApiError as exc:
            assert exc.status_code == 404


def test_identity_lifecycle(client, unique, identities):
    key = unique("user")
    start = client.identities.count()
    created = client.identities.create(identifier_key=key, name="Ada Lovelace", identity_type="user",
                                       properties=[{"key": "plan", "value": "pro", "type": "string"}])
    identities.append(created.id)
    assert created.id.startswith("identity-")
    assert (created.identifier_key, created.identity_type) == (key, "user")
    assert [(p.key, p.value, p.type) for p in created.properties] == [("plan", "pro", "string")]
    assert client.identities.count() == start + 1

    assert client.identities.retrieve(identity_id=created.id).name == "Ada Lovelace"
    assert [i.id for i in client.identities.list(identifier_key=key)] == [created.id]

    modified = client.identities.modify(identity_id=created.id, name="Ada King")
    assert modified.name == "Ada King"

    client.identities.properties.upsert(identity_id=created.id, request=[
        {"key": "seats", "value": 3, "type": "number"}, {"key": "beta", "value": True, "type": "boolean"}])
    props = {p.key: p.value for p in client.identities.retrieve(identity_id=created.id).properties}
    assert props == {"seats": 3, "beta": True}

    client.identities.delete(identity_id=created.id)
    assert client.identities.count() == start
    with pytest.raises(ApiError) as info:
        client.identities.retrieve(identity_id=created.id)
    assert info.value.status_code == 404


def test_upsert_by_identifier_key_updates_in_place(client, unique, identities):
    key = unique("org")
    first = client.identities.upsert(identifier_key=key, name="Acme", identity_type="org")
    identities.append(first.id)
    second = client.identities.upsert(identifier_key=key, name="Acme Corp", identity_type="org")

    assert second.id == first.id
    assert client.identities.retrieve(identity_id=first.id).name == "Acme Corp"
    assert len(client.identities.list(identifier_key=key)) == 1


def test_duplicate_identifier_key_on_create_is_409(client, http, unique, identities):
    key = unique("dup")
    identities.append(client.identities.create(identifier_key=key, name="One", identity_type="user").id)

    resp = http.post("/v1/identities/", json={"identifier_key": key, "name": "Two", "identity_type": "user"})
    assert resp.status_code == 409
    assert key in resp.json()["detail"]


def test_linking_agents_through_the_identity_filters_agent_lists(client, make_agent, unique, identities):
    first, second, other = make_agent(), make_agent(), make_agent()
    identity = client.identities.create(identifier_key=unique("owner"), name="Owner", identity_type="user",
                                        agent_ids=[first.id, second.id])
    identities.append(identity.id)

    assert set(identity.agent_ids) == {first.id, second.id}
    assert {a.id for a in client.agents.list(identity_id=identity.id)} == {first.id, second.id}
    assert client.agents.retrieve(agent_id=first.id).identity_ids == [identity.id]

    client.identities.modify(identity_id=identity.id, agent_ids=[other.id])
    assert [a.id for a in client.agents.list(identity_id=identity.id)] == [other.id]
