"""Composio: the REST catalogue routes through letta-client, and a registered action in an agent turn."""

from __future__ import annotations

import json

import pytest
from letta_client import Letta
from letta_client.core.api_error import ApiError

from tests.host.external.helpers import COMPOSIO_KEY, the_return, turn

STAR = "GITHUB_STAR_A_REPOSITORY"


@pytest.fixture(scope="module")
def sdk(external) -> Letta:
    return Letta(base_url=external.server.base_url, timeout=60)


def test_apps_and_actions_are_listed_in_lettas_shapes(sdk):
    apps = sdk.tools.list_composio_apps()
    assert {(a.key, a.name) for a in apps} == {("github", "GitHub"), ("weather", "Weather")}
    assert next(a for a in apps if a.key == "github").meta == {"actionsCount": 2}

    actions = sdk.tools.list_composio_actions_by_app(composio_app_name="github")
    assert {a.name for a in actions} == {STAR, "GITHUB_GET_USER"}
    assert {a.app_name for a in actions} == {"github"}


def test_an_unknown_app_or_action_is_a_404(external):
    resp = external.http.get("/v1/tools/composio/apps/nosuchapp/actions")
    assert resp.status_code == 404 and "nosuchapp" in resp.json()["detail"]
    resp = external.http.post("/v1/tools/composio/NOSUCH_ACTION")
    assert resp.status_code == 404 and "NOSUCH_ACTION" in resp.json()["detail"]


def test_a_registered_action_runs_in_a_turn_for_the_agents_entity(external, sdk, make_agent):
    tool = sdk.tools.add_composio_tool(composio_action_name=STAR)
    assert (tool.name, tool.tool_type) == ("github_star_a_repository", "external_composio")
    assert set(tool.json_schema["parameters"]["properties"]) == {"owner", "repo"}
    assert sdk.tools.add_composio_tool(composio_action_name=STAR.lower()).id == tool.id, "adding again refreshes"

    agent_id, script = make_agent(external.http, tool_ids=[tool.id],
                                  tool_exec_environment_variables={"COMPOSIO_ENTITY": "user-7"})
    script.push_tool_call(tool.name, {"owner": "octo", "repo": "hello"})

    ret = the_return(turn(external.http, agent_id), tool.name)

    assert ret["status"] == "success", ret["tool_return"]
    assert json.loads(ret["tool_return"]) == {"starred": "octo/hello", "user_id": "user-7"}
    method, path, _, body, headers = external.composio.requests[-1]
    assert (method, path) == ("POST", f"/api/v3.1/tools/execute/{STAR}")
    assert headers["x-api-key"] == COMPOSIO_KEY and body["arguments"] == {"owner": "octo", "repo": "hello"}


def test_the_entity_defaults_to_default_and_a_failed_action_is_a_tool_error(external, sdk, make_agent):
    tool = sdk.tools.add_composio_tool(composio_action_name=STAR)
    agent_id, script = make_agent(external.http, tool_ids=[tool.id])
    script.push_tool_call(tool.name, {"owner": "octo", "repo": "x"})

    ret = the_return(turn(external.http, agent_id), tool.name)
    assert json.loads(ret["tool_return"])["user_id"] == "default"

    script.push_tool_call(tool.name, {"owner": "fail", "repo": "x"})
    script.push_text("that failed")
    ret = the_return(turn(external.http, agent_id), tool.name)
    assert ret["status"] == "error" and "Repository fail/x not found" in ret["tool_return"]


def test_without_a_key_the_composio_routes_answer_400_with_the_fix(plain_http):
    for method, path in (("GET", "/v1/tools/composio/apps"), ("GET", "/v1/tools/composio/apps/github/actions"),
                         ("POST", f"/v1/tools/composio/{STAR}")):
        resp = plain_http.request(method, path)
        assert resp.status_code == 400, (path, resp.text)
        assert "COMPOSIO_API_KEY" in resp.json()["detail"]


def test_sdk_raises_for_missing_key(plain_http):
    with pytest.raises(ApiError) as info:
        Letta(base_url=str(plain_http.base_url).rstrip("/"), timeout=30).tools.list_composio_apps()
    assert info.value.status_code == 400
