"""Routes both generations call: 0.8 clients (no 1.x headers) keep 0.8's answers; 1.x clients get 1.x's."""

from __future__ import annotations

from typing import Any

V1 = {"X-Stainless-Package-Version": "1.12.1", "X-Stainless-Lang": "python"}
MODEL = "openai-proxy/gpt-4o-mini"
EMBEDDING = "openai/text-embedding-3-small"


def make_agent(http: Any) -> dict[str, Any]:
    body = {"model": MODEL, "embedding": EMBEDDING, "memory_blocks": [{"label": "human", "value": "x"}],
            "tags": ["shared-routes"]}
    response = http.post("/v1/agents/", json=body)
    assert response.status_code == 200, response.text
    return response.json()


def test_tool_attach_answers_the_agent_to_0_8_and_null_to_1x(http):
    agent = make_agent(http)
    tool = next(t for t in http.get("/v1/tools/", params={"limit": 200}).json() if t["name"] == "send_message")
    http.patch(f"/v1/agents/{agent['id']}/tools/detach/{tool['id']}")
    legacy = http.patch(f"/v1/agents/{agent['id']}/tools/attach/{tool['id']}")
    assert legacy.status_code == 200 and legacy.json()["id"] == agent["id"]
    v1 = http.patch(f"/v1/agents/{agent['id']}/tools/detach/{tool['id']}", headers=V1)
    assert v1.status_code == 200 and v1.json() is None


def test_retrieve_shows_relationships_to_0_8_and_only_included_ones_to_1x(http):
    agent = make_agent(http)
    legacy = http.get(f"/v1/agents/{agent['id']}").json()
    assert legacy["memory"]["blocks"] and legacy["tools"] and legacy["tags"] == ["shared-routes"]
    bare = http.get(f"/v1/agents/{agent['id']}", headers=V1).json()
    assert bare["memory"]["blocks"] == [] and bare["blocks"] == [] and bare["tools"] == [] and bare["tags"] == []
    tagged = http.get(f"/v1/agents/{agent['id']}", params={"include": "agent.tags"}, headers=V1).json()
    assert tagged["tags"] == ["shared-routes"] and tagged["tools"] == []


def test_a_422_is_a_list_for_0_8_and_a_string_with_trace_id_for_1x(http):
    bad = {"model": MODEL, "memory_blocks": [{"value": "no label"}]}
    legacy = http.post("/v1/agents/", json=bad)
    assert legacy.status_code == 422 and isinstance(legacy.json()["detail"], list)
    v1 = http.post("/v1/agents/", json=bad, headers=V1)
    assert v1.status_code == 422 and v1.json()["trace_id"] == ""
    assert "('body', 'memory_blocks', 0, 'label')" in v1.json()["detail"]


def test_mcp_servers_404_names_the_id_and_nothing_else(http):
    response = http.get("/v1/mcp-servers/mcp_server-00000000-0000-4000-8000-000000000000", headers=V1)
    assert response.status_code == 404
    assert response.json() == {"detail": "MCP server with ID mcp_server-00000000-0000-4000-8000-000000000000 "
                                         "not found; list them with GET /v1/mcp-servers"}


def test_bad_bodies_on_new_routes_are_422s_naming_the_field(http):
    response = http.post("/v1/archives/", json={"description": "no name"}, headers=V1)
    assert response.status_code == 422 and "name" in response.json()["detail"]
    response = http.post("/v1/mcp-servers/", json={"server_name": "x", "config": {"mcp_server_type": "stdio",
                                                                                   "bogus": 1}})
    assert response.status_code == 422 and "bogus" in str(response.json()["detail"])
    response = http.post("/v1/passages/search", json={"query": "x"})
    assert response.status_code == 422 and "agent_id or archive_id" in response.json()["detail"]


def test_ready_answers_once_the_database_does(http):
    assert http.get("/v1/ready").json()["status"] == "ok"
    assert http.get("/v1/ready/").status_code == 200
