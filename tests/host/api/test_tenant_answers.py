"""Answers report the owner's organization (issue 18): a user of a second organization creates one object of
each kind that has an ``organization_id`` in its answer, and every ``organization_id`` anywhere in the answers
it then gets (creates, gets, lists, child rows such as files, passages, steps and traces) is its own."""

from __future__ import annotations

import uuid
from typing import Any

import httpx

from tests.support.waiting import wait_until

MODEL = "openai-proxy/gpt-4o-mini"


def _org_key(http: httpx.Client) -> tuple[dict[str, str], str]:
    org = http.post("/v1/admin/orgs/", json={"name": f"answers-{uuid.uuid4().hex[:6]}"}).json()
    user = http.post("/v1/admin/users/", json={"name": "answers-user", "organization_id": org["id"]}).json()
    key = http.post(f"/v1/admin/users/{user['id']}/keys").json()["key"]
    return {"Authorization": f"Bearer {key}"}, org["id"]


def _organization_ids(value: Any) -> list[Any]:
    if isinstance(value, dict):
        return [v for k, v in value.items() if k == "organization_id"] + [
            found for v in value.values() for found in _organization_ids(v)]
    if isinstance(value, list):
        return [found for v in value for found in _organization_ids(v)]
    return []


def test_every_organization_id_in_a_second_organizations_answers_is_its_own(http: httpx.Client) -> None:
    h, org_id = _org_key(http)
    answers: dict[str, Any] = {}

    def call(method: str, path: str, **kwargs: Any) -> Any:
        resp = http.request(method, path, headers=h, timeout=60, **kwargs)
        assert resp.is_success, f"{method} {path}: {resp.status_code} {resp.text}"
        answers[f"{method} {path}"] = resp.json()
        return resp.json()

    tag = uuid.uuid4().hex[:8]
    embedding = call("GET", "/v1/models/embedding")[0]["handle"]
    source = call("POST", "/v1/sources/", json={"name": f"answers-{tag}", "embedding": embedding})
    file = call("POST", f"/v1/sources/{source['id']}/upload",
                files={"file": ("a.txt", b"answers file text", "text/plain")})
    wait_until(lambda: call("GET", f"/v1/sources/{source['id']}/files/{file['id']}")["processing_status"]
               == "completed", what="the upload to be ingested", timeout=60)
    call("GET", f"/v1/sources/{source['id']}")
    call("GET", "/v1/sources/")
    call("GET", f"/v1/sources/{source['id']}/files")
    call("GET", f"/v1/sources/{source['id']}/passages")
    agent = call("POST", "/v1/agents/", json={
        "name": f"answers-{tag}", "model": MODEL, "embedding": embedding,
        "tool_exec_environment_variables": {"ANSWERS_KEY": "v"},
        "memory_blocks": [{"label": "human", "value": "Ada"}]})
    call("GET", f"/v1/agents/{agent['id']}")
    call("POST", f"/v1/agents/{agent['id']}/archival-memory", json={"text": "answers passage"})
    call("GET", f"/v1/agents/{agent['id']}/archival-memory")
    call("POST", "/v1/identities/", json={"identifier_key": f"answers-{tag}", "name": "person",
                                          "identity_type": "user", "agent_ids": [agent["id"]]})
    call("GET", "/v1/identities/")
    archive = call("POST", "/v1/archives/", json={"name": f"answers-{tag}"})
    call("GET", f"/v1/archives/{archive['id']}")
    sandbox = call("POST", "/v1/sandbox-config/", json={"config": {"sandbox_dir": f"/tmp/answers-{tag}"}})
    call("POST", f"/v1/sandbox-config/{sandbox['id']}/environment-variable", json={"key": "K", "value": "v"})
    call("GET", f"/v1/sandbox-config/{sandbox['id']}/environment-variable")
    call("GET", "/v1/sandbox-config/")
    call("POST", f"/v1/agents/{agent['id']}/messages", json={"messages": [{"role": "user", "content": "hi"}]})
    run = call("GET", "/v1/runs/", params={"agent_id": agent["id"]})[0]
    step = call("GET", f"/v1/runs/{run['id']}/steps")[0]
    call("GET", f"/v1/steps/{step['id']}")
    call("GET", "/v1/steps/", params={"agent_id": agent["id"]})
    call("GET", f"/v1/runs/{run['id']}/metrics")
    call("GET", f"/v1/steps/{step['id']}/metrics")
    wait_until(lambda: http.get(f"/v1/telemetry/{step['id']}", headers=h).status_code == 200,
               what="the step's provider trace", timeout=30)
    call("GET", f"/v1/telemetry/{step['id']}")
    batch = call("POST", "/v1/messages/batches", json={"requests": [{
        "agent_id": agent["id"], "messages": [{"role": "user", "content": "batched"}]}]})
    wait_until(lambda: http.get(f"/v1/messages/batches/{batch['id']}", headers=h).json()["status"]
               in ("completed", "failed"), what="the batch to finish", timeout=60)
    call("GET", f"/v1/messages/batches/{batch['id']}/messages")

    reported = {f"{where}: {value!r}" for where, answer in answers.items() for value in _organization_ids(answer)
                if value != org_id}
    assert not reported, "answers that report another organization:\n" + "\n".join(sorted(reported))
    kinds = {where.split(" ")[1].split("/")[2] for where, answer in answers.items() if _organization_ids(answer)}
    assert {"sources", "agents", "identities", "archives", "sandbox-config", "steps", "runs", "telemetry",
            "messages"} <= kinds, kinds
