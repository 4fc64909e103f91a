"""Composio through the real composio 0.29 SDK against the loopback fake of its v3.1 API."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

from builtin_tools import (
    ComposioClient,
    ComposioError,
    CoreMemory,
    ServicesConfig,
    ToolContext,
    composio_tool,
)
from tests.support.fake_composio import FakeComposio


class _NoPorts:
    async def insert(self, text, tags):  # pragma: no cover - never reached
        raise AssertionError

    async def search(self, *args):  # pragma: no cover - never reached
        raise AssertionError


@pytest.fixture
def composio() -> Iterator[FakeComposio]:
    with FakeComposio(api_key="ck-good") as fake:
        yield fake


@pytest.mark.anyio
async def test_list_apps_and_actions(composio: FakeComposio) -> None:
    gateway = ComposioClient("ck-good", composio.url, timeout_s=10)
    apps = await gateway.list_apps()
    assert [(a.slug, a.name, a.tools_count) for a in apps] == [("github", "GitHub", 2), ("weather", "Weather", 1)]
    actions = await gateway.list_actions("github")
    assert [(a.slug, a.app) for a in actions] == [("GITHUB_STAR_A_REPOSITORY", "github"), ("GITHUB_GET_USER", "github")]
    assert composio.requests[0][:2] == ("GET", "/api/v3.1/toolkits")
    assert composio.requests[1][2]["toolkit_slug"] == "github"
    assert all(r[4]["x-api-key"] == "ck-good" for r in composio.requests)


@pytest.mark.anyio
async def test_action_schema_is_in_letta_shape(composio: FakeComposio) -> None:
    schema = await ComposioClient("ck-good", composio.url).get_action_schema("GITHUB_STAR_A_REPOSITORY")
    assert schema == {
        "name": "github_star_a_repository",
        "description": "Stars a repository for the authenticated user.",
        "parameters": {
            "type": "object",
            "properties": {
                "owner": {"type": "string", "description": "The account owner of the repository."},
                "repo": {"type": "string", "description": "The name of the repository."},
            },
            "required": ["owner", "repo"],
        },
    }


@pytest.mark.anyio
async def test_catalogue_failures_raise_composio_error(composio: FakeComposio) -> None:
    with pytest.raises(ComposioError) as unknown:
        await ComposioClient("ck-good", composio.url).get_action_schema("NO_SUCH_ACTION")
    assert unknown.value.operation == "get_action_schema"
    with pytest.raises(ComposioError) as denied:
        await ComposioClient("ck-bad", composio.url).list_apps()
    assert denied.value.status_code == 401 and "rejected" in str(denied.value)


async def _tool_ctx(url: str, env: dict[str, str]) -> ToolContext:
    return ToolContext(
        "agent-1", "sam", CoreMemory(), _NoPorts(), _NoPorts(), env=env,
        services=ServicesConfig(composio_base_url=url, http_timeout_s=10),
    )


@pytest.mark.anyio
async def test_composio_tool_executes_for_the_agents_entity(composio: FakeComposio) -> None:
    schema = await ComposioClient("ck-good", composio.url).get_action_schema("GITHUB_STAR_A_REPOSITORY")
    tool = composio_tool("GITHUB_STAR_A_REPOSITORY", schema)
    assert (tool.name, tool.tool_type) == ("github_star_a_repository", "external_composio")
    ctx = await _tool_ctx(composio.url, {"COMPOSIO_API_KEY": "ck-good", "COMPOSIO_ENTITY": "bob"})
    out = await tool.run({"owner": "letta-ai", "repo": "letta", "request_heartbeat": True}, ctx)
    assert out.status == "success", out.text
    assert json.loads(out.text) == {"starred": "letta-ai/letta", "user_id": "bob"}
    method, path, _, body, _ = composio.requests[-1]
    assert (method, path) == ("POST", "/api/v3.1/tools/execute/GITHUB_STAR_A_REPOSITORY")
    assert body["arguments"] == {"owner": "letta-ai", "repo": "letta"} and body["user_id"] == "bob"


@pytest.mark.anyio
async def test_entity_defaults_to_default(composio: FakeComposio) -> None:
    tool = composio_tool("WEATHER_GET_FORECAST", await ComposioClient("ck-good", composio.url).get_action_schema("WEATHER_GET_FORECAST"))
    out = await tool.run({"city": "Oslo"}, await _tool_ctx(composio.url, {"COMPOSIO_API_KEY": "ck-good"}))
    assert out.status == "success"
    assert composio.requests[-1][3]["user_id"] == "default"


@pytest.mark.anyio
async def test_execution_failures_are_error_outputs(composio: FakeComposio) -> None:
    gateway = ComposioClient("ck-good", composio.url)
    failed = await gateway.execute_action("GITHUB_STAR_A_REPOSITORY", {"owner": "fail", "repo": "x"})
    assert failed.status == "error" and "Repository fail/x not found" in failed.text
    missing = await gateway.execute_action("NO_SUCH_ACTION", {})
    assert missing.status == "error" and "NO_SUCH_ACTION could not run" in missing.text


@pytest.mark.anyio
async def test_missing_key_is_a_clear_message(composio: FakeComposio) -> None:
    tool = composio_tool("GITHUB_GET_USER", {"name": "github_get_user", "description": "d",
                                              "parameters": {"type": "object", "properties": {"username": {"type": "string"}}, "required": ["username"]}})
    out = await tool.run({"username": "bob"}, await _tool_ctx(composio.url, {}))
    assert out.status == "error" and "COMPOSIO_API_KEY" in out.text
    assert composio.requests == []
