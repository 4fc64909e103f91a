"""Letta 0.16.8 routes added for issue 17: identities linked one at a time, identities' agents and blocks."""

from __future__ import annotations

import json
import subprocess
import uuid
from typing import Any

import pytest

V1 = {"X-Stainless-Package-Version": "1.12.1", "X-Stainless-Lang": "python"}
MODEL = "openai-proxy/gpt-4o-mini"
EMBEDDING = "openai/text-embedding-3-small"
MISSING_IDENTITY = "identity-00000000-0000-4000-8000-000000000000"


def make_agent(http: Any, name: str = "") -> dict[str, Any]:
    body = {"model": MODEL, "embedding": EMBEDDING, "memory_blocks": [{"label": "human", "value": "x"}]}
    if name:
        body["name"] = name
    response = http.post("/v1/agents/", json=body)
    assert response.status_code == 200, response.text
    return response.json()


def make_identity(http: Any) -> dict[str, Any]:
    response = http.post("/v1/identities/", json={"identifier_key": f"user-{uuid.uuid4()}", "name": "Ada",
                                                  "identity_type": "user"})
    assert response.status_code == 200, response.text
    return response.json()


def make_block(http: Any, label: str) -> dict[str, Any]:
    response = http.post("/v1/blocks/", json={"label": label, "value": f"{label} value"})
    assert response.status_code == 200, response.text
    return response.json()


def test_agent_identity_attach_and_detach_show_in_later_reads(http):
    agent, identity = make_agent(http), make_identity(http)
    attached = http.patch(f"/v1/agents/{agent['id']}/identities/attach/{identity['id']}", headers=V1)
    assert attached.status_code == 200 and attached.json() is None
    again = http.patch(f"/v1/agents/{agent['id']}/identities/attach/{identity['id']}", headers=V1)
    assert again.status_code == 200
    assert http.get(f"/v1/identities/{identity['id']}").json()["agent_ids"] == [agent["id"]]
    seen = http.get(f"/v1/agents/{agent['id']}", params={"include": "agent.identities"}, headers=V1).json()
    assert seen["identity_ids"] == [identity["id"]]
    detached = http.patch(f"/v1/agents/{agent['id']}/identities/detach/{identity['id']}", headers=V1)
    assert detached.status_code == 200 and detached.json() is None
    assert http.get(f"/v1/identities/{identity['id']}").json()["agent_ids"] == []


def test_agent_identity_routes_404_on_unknown_ids(http):
    agent, identity = make_agent(http), make_identity(http)
    response = http.patch(f"/v1/agents/{agent['id']}/identities/attach/{MISSING_IDENTITY}", headers=V1)
    assert response.status_code == 404 and MISSING_IDENTITY in response.json()["detail"]
    missing_agent = "agent-00000000-0000-4000-8000-000000000000"
    response = http.patch(f"/v1/agents/{missing_agent}/identities/detach/{identity['id']}", headers=V1)
    assert response.status_code == 404 and missing_agent in response.json()["detail"]


def test_block_identity_attach_answers_the_block_and_detach_unlinks(http):
    block, identity = make_block(http, "persona"), make_identity(http)
    attached = http.patch(f"/v1/blocks/{block['id']}/identities/attach/{identity['id']}", headers=V1)
    assert attached.status_code == 200 and attached.json()["id"] == block["id"]
    assert attached.json()["value"] == "persona value"
    assert http.get(f"/v1/identities/{identity['id']}").json()["block_ids"] == [block["id"]]
    detached = http.patch(f"/v1/blocks/{block['id']}/identities/detach/{identity['id']}", headers=V1)
    assert detached.status_code == 200 and detached.json()["id"] == block["id"]
    assert http.get(f"/v1/identities/{identity['id']}").json()["block_ids"] == []
    missing_block = "block-00000000-0000-4000-8000-000000000000"
    response = http.patch(f"/v1/blocks/{missing_block}/identities/attach/{identity['id']}", headers=V1)
    assert response.status_code == 404 and missing_block in response.json()["detail"]
    response = http.patch(f"/v1/blocks/{block['id']}/identities/attach/{MISSING_IDENTITY}", headers=V1)
    assert response.status_code == 404


def test_identity_agents_are_listed_newest_first_and_paged(http):
    identity = make_identity(http)
    agents = [make_agent(http, f"identity-agent-{i}-{uuid.uuid4().hex[:6]}") for i in range(3)]
    for agent in agents:
        assert http.patch(f"/v1/agents/{agent['id']}/identities/attach/{identity['id']}").status_code == 200
    listed = http.get(f"/v1/identities/{identity['id']}/agents", headers=V1)
    assert listed.status_code == 200
    assert [a["id"] for a in listed.json()] == [a["id"] for a in reversed(agents)]
    assert listed.json()[0]["tags"] == [] and listed.json()[0]["memory"]["blocks"] == []
    first = http.get(f"/v1/identities/{identity['id']}/agents", params={"order": "asc", "limit": 2}, headers=V1).json()
    assert [a["id"] for a in first] == [agents[0]["id"], agents[1]["id"]]
    rest = http.get(f"/v1/identities/{identity['id']}/agents",
                    params={"order": "asc", "after": first[-1]["id"], "include": "agent.identities"}, headers=V1)
    assert [a["id"] for a in rest.json()] == [agents[2]["id"]]
    assert rest.json()[0]["identity_ids"] == [identity["id"]]
    assert http.get(f"/v1/identities/{MISSING_IDENTITY}/agents", headers=V1).status_code == 404
    bad = http.get(f"/v1/identities/{identity['id']}/agents", params={"order": "sideways"}, headers=V1)
    assert bad.status_code == 422


def test_identity_blocks_are_listed_and_paged(http):
    identity = make_identity(http)
    blocks = [make_block(http, f"label{i}") for i in range(3)]
    for block in blocks:
        assert http.patch(f"/v1/blocks/{block['id']}/identities/attach/{identity['id']}").status_code == 200
    listed = http.get(f"/v1/identities/{identity['id']}/blocks", headers=V1)
    assert listed.status_code == 200
    assert [b["id"] for b in listed.json()] == [b["id"] for b in reversed(blocks)]
    page = http.get(f"/v1/identities/{identity['id']}/blocks", params={"order": "asc", "limit": 1,
                                                                       "after": blocks[0]["id"]}, headers=V1).json()
    assert [b["id"] for b in page] == [blocks[1]["id"]]
    assert http.get(f"/v1/identities/{MISSING_IDENTITY}/blocks", headers=V1).status_code == 404


def agent_block_ids(http: Any, agent_id: str) -> list[str]:
    agent = http.get(f"/v1/agents/{agent_id}", params={"include": "agent.blocks"}, headers=V1).json()
    return [b["id"] for b in agent["blocks"]]


def system_prompt(http: Any, agent_id: str) -> str:
    first = http.get(f"/v1/agents/{agent_id}/messages", params={"limit": 1, "order": "asc"}, headers=V1).json()
    assert first and first[0]["message_type"] == "system_message", first
    return first[0]["content"]


def test_group_block_attach_reaches_every_member_and_detach_takes_it_off(http):
    members = [make_agent(http), make_agent(http)]
    group = http.post("/v1/groups/", json={"agent_ids": [a["id"] for a in members], "description": "g"}).json()
    block = make_block(http, "team_notes")
    attached = http.patch(f"/v1/groups/{group['id']}/blocks/attach/{block['id']}", headers=V1)
    assert attached.status_code == 200 and attached.json() is None
    assert http.patch(f"/v1/groups/{group['id']}/blocks/attach/{block['id']}", headers=V1).status_code == 200
    assert http.get(f"/v1/groups/{group['id']}").json()["shared_block_ids"] == [block["id"]]
    for member in members:
        assert agent_block_ids(http, member["id"]).count(block["id"]) == 1
        assert "team_notes value" in system_prompt(http, member["id"])
    detached = http.patch(f"/v1/groups/{group['id']}/blocks/detach/{block['id']}", headers=V1)
    assert detached.status_code == 200 and detached.json() is None
    assert http.get(f"/v1/groups/{group['id']}").json()["shared_block_ids"] == []
    for member in members:
        ids = agent_block_ids(http, member["id"])
        assert block["id"] not in ids and len(ids) == 1  # the member's own "human" block stays
        assert "team_notes value" not in system_prompt(http, member["id"])
    missing_block = "block-00000000-0000-4000-8000-000000000000"
    response = http.patch(f"/v1/groups/{group['id']}/blocks/attach/{missing_block}", headers=V1)
    assert response.status_code == 404 and missing_block in response.json()["detail"]
    missing_group = "group-00000000-0000-4000-8000-000000000000"
    response = http.patch(f"/v1/groups/{missing_group}/blocks/detach/{block['id']}", headers=V1)
    assert response.status_code == 404 and missing_group in response.json()["detail"]


def approval_rules(http: Any, agent_id: str) -> list[dict[str, Any]]:
    rules = http.get(f"/v1/agents/{agent_id}").json()["tool_rules"]
    return [r for r in rules if r["type"] == "requires_approval"]


def test_tool_approval_is_set_by_body_or_query_gates_the_tool_and_is_cleared(http, scripted_llm):
    model = f"approval-{uuid.uuid4().hex[:6]}"
    response = http.post("/v1/agents/", headers=V1, json={"model": f"openai-proxy/{model}", "embedding": EMBEDDING,
                                                          "memory_blocks": [{"label": "human", "value": "x"}]})
    agent = response.json()
    url = f"/v1/agents/{agent['id']}/tools/approval/conversation_search"
    response = http.patch(url, json={"requires_approval": True}, headers=V1)
    assert response.status_code == 200 and response.json() is None
    assert http.patch(url, json={"requires_approval": True}, headers=V1).status_code == 200
    assert [r["tool_name"] for r in approval_rules(http, agent["id"])] == ["conversation_search"]

    scripted_llm.for_model(model).push_tool_call("conversation_search", {"query": "tea"})
    paused = http.post(f"/v1/agents/{agent['id']}/messages", headers=V1,
                       json={"messages": [{"role": "user", "content": "what did I say about tea?"}]})
    assert paused.status_code == 200, paused.text
    assert paused.json()["stop_reason"]["stop_reason"] == "requires_approval"
    request = next(m for m in paused.json()["messages"] if m["message_type"] == "approval_request_message")
    assert request["tool_call"]["name"] == "conversation_search"

    response = http.patch(url, params={"requires_approval": "false"}, headers=V1)
    assert response.status_code == 200
    assert approval_rules(http, agent["id"]) == []
    assert http.get(f"/v1/agents/{agent['id']}").json()["tool_rules"] == agent["tool_rules"]  # others untouched


def test_tool_approval_rejects_bad_input(http):
    agent = make_agent(http)
    tool = agent["tools"][0]["name"]
    url = f"/v1/agents/{agent['id']}/tools/approval/{tool}"
    missing = http.patch(url, headers=V1)
    assert missing.status_code == 422 and "requires_approval" in missing.json()["detail"]
    bad = http.patch(url, json={"requires_approval": "sometimes"}, headers=V1)
    assert bad.status_code == 422 and "requires_approval" in bad.json()["detail"]
    extra = http.patch(url, json={"requires_approval": True, "bogus": 1}, headers=V1)
    assert extra.status_code == 422 and "bogus" in extra.json()["detail"]
    unknown_tool = http.patch(f"/v1/agents/{agent['id']}/tools/approval/no_such_tool",
                              json={"requires_approval": True}, headers=V1)
    assert unknown_tool.status_code == 404 and "no_such_tool" in unknown_tool.json()["detail"]
    missing_agent = "agent-00000000-0000-4000-8000-000000000000"
    response = http.patch(f"/v1/agents/{missing_agent}/tools/approval/{tool}", json={"requires_approval": True},
                          headers=V1)
    assert response.status_code == 404 and missing_agent in response.json()["detail"]
    assert approval_rules(http, agent["id"]) == []


SDK_SCRIPT = """
import json, sys
import letta_client
from letta_client import Letta

base_url, agent_id, identity_id = sys.argv[1:4]
client = Letta(base_url=base_url, api_key="unused", max_retries=0, timeout=120)
out = {"attach": client.agents.identities.attach(identity_id, agent_id=agent_id),
       "approval": client.agents.tools.update_approval("conversation_search", agent_id=agent_id,
                                                       body_requires_approval=True)}
try:
    client.agents.identities.detach("identity-00000000-0000-4000-8000-000000000000", agent_id=agent_id)
except letta_client.NotFoundError as exc:
    out["missing"] = exc.status_code
print(json.dumps(out))
"""


def test_the_1x_sdk_attaches_an_identity_and_sets_an_approval(http, server):
    from tests.v1.test_sdk_flows import ROOT, V1_PYTHON

    if V1_PYTHON is None:
        pytest.skip("no venv with letta-client 1.x (see .ci/run)")
    agent = http.post("/v1/agents/", headers=V1, json={"model": MODEL, "embedding": EMBEDDING,
                                                       "memory_blocks": [{"label": "human", "value": "x"}]}).json()
    identity = make_identity(http)
    done = subprocess.run([V1_PYTHON, "-c", SDK_SCRIPT, server.base_url, agent["id"], identity["id"]],
                          capture_output=True, text=True, timeout=180, cwd=ROOT)
    assert done.returncode == 0, done.stderr[-4000:]
    seen = json.loads(done.stdout.strip().splitlines()[-1])
    assert seen == {"attach": None, "approval": None, "missing": 404}
    assert http.get(f"/v1/identities/{identity['id']}").json()["agent_ids"] == [agent["id"]]
    assert [r["tool_name"] for r in approval_rules(http, agent["id"])] == ["conversation_search"]
