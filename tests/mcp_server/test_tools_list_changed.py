"""`notifications/tools/list_changed` end to end: an upstream MCP server changes its tools, agenthost re-lists
them, refreshes the registered tools' schemas, and tells its own MCP clients (``/mcp`` and ``agenthost mcp``).
"""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

import anyio
import httpx
import mcp_types as types
import pytest
from mcp import Client

from tests.mcp_server.conftest import peer_config, stdio_params, text_of
from tests.support.server import ServerProcess
from tests.support.waiting import wait_until_async

pytestmark = pytest.mark.anyio


class Notices:
    """Counts the tools/list_changed notifications a client receives."""

    def __init__(self) -> None:
        self.count = 0

    async def __call__(self, message: Any) -> None:
        if isinstance(message, types.ToolListChangedNotification):
            self.count += 1


def _tool(tools: list[types.Tool], name: str) -> types.Tool | None:
    return next((t for t in tools if t.name == name), None)


async def test_an_upstream_tool_change_reaches_the_registered_tool_and_the_mcp_client(
        peer_server: ServerProcess) -> None:
    srv = peer_server
    notices = Notices()
    with anyio.fail_after(90):
        async with Client(srv.base_url + "/mcp", mode="legacy", message_handler=notices, cache=None) as client:
            tools_cap = client.server_capabilities.tools
            assert tools_cap is not None and tools_cap.list_changed
            listed = (await client.list_tools()).tools
            while _tool(listed, "mcp__peer__add") is None:  # the peer connects in the background
                await anyio.sleep(0.1)
                listed = (await client.list_tools()).tools
            assert "c" not in (_tool(listed, "mcp__peer__add") or types.Tool(name="", input_schema={})).input_schema[
                "properties"]

            async with httpx.AsyncClient(base_url=srv.base_url, timeout=30) as http:
                registered = (await http.post("/v1/tools/mcp/servers/peer/add")).raise_for_status().json()
                assert registered["name"] == "add"
                before = notices.count
                reshaped = await client.call_tool("mcp__peer__reshape", {})
                assert not reshaped.is_error and "reshaped" in text_of(reshaped)

                await wait_until_async(lambda: notices.count > before, timeout=30,
                                       what="a tools/list_changed notification from agenthost")
                listed = (await client.list_tools()).tools
                add = _tool(listed, "mcp__peer__add")
                assert add is not None and add.input_schema["properties"]["c"] == {"type": "number"}
                # The registered row was refreshed before the client was told: same name, the new schema.
                row = (await http.get(f"/v1/tools/{registered['id']}")).raise_for_status().json()
                assert row["name"] == "add"
                assert row["json_schema"]["parameters"]["properties"]["c"] == {"type": "number"}
                assert row["description"] == "Add two or three numbers."
            summed = await client.call_tool("mcp__peer__add", {"a": 1, "b": 2, "c": 4})
            assert text_of(summed).strip() == "7"


async def test_agenthost_mcp_tells_a_client_that_listed_early_when_the_tools_arrive(
        tmp_path: Path, stdio_db: str | None) -> None:
    home = tmp_path / "late-home"
    peer_config(home)
    notices = Notices()
    params = stdio_params(home, None, pg_uri=stdio_db)
    with anyio.fail_after(90):
        async with Client(params, mode="legacy", message_handler=notices, cache=None) as client:
            seen = notices.count
            names = {t.name for t in (await client.list_tools()).tools}
            while "mcp__peer__echo" not in names:  # listed before the peer was ready: a notice must follow
                await wait_until_async(lambda: notices.count > seen, timeout=60,  # noqa: B023
                                       what="tools/list_changed once the peer's tools arrived")
                seen = notices.count
                names = {t.name for t in (await client.list_tools()).tools}
            assert {"mcp__peer__echo", "mcp__peer__reshape", "list_agents"} <= names
            before = notices.count
            assert not (await client.call_tool("mcp__peer__reshape", {})).is_error
            await wait_until_async(lambda: notices.count > before, timeout=30,
                                   what="tools/list_changed after the peer reshaped its tools")
            add = _tool((await client.list_tools()).tools, "mcp__peer__add")
            assert add is not None and "c" in add.input_schema["properties"]


async def test_a_custom_tool_created_and_deleted_over_rest_reaches_mcp_clients(server: ServerProcess) -> None:
    notices = Notices()
    name = f"shout_{uuid.uuid4().hex[:8]}"
    source = f'def {name}(text: str) -> str:\n    """Shout it.\n\n    Args:\n        text: what to shout\n    """\n' \
             "    return text.upper()\n"
    with anyio.fail_after(90):
        async with Client(server.base_url + "/mcp", mode="legacy", message_handler=notices, cache=None) as client:
            assert _tool((await client.list_tools()).tools, f"custom__{name}") is None
            async with httpx.AsyncClient(base_url=server.base_url, timeout=30) as http:
                before = notices.count
                tool = (await http.post("/v1/tools/", json={"source_code": source})).raise_for_status().json()
                await wait_until_async(lambda: notices.count > before, timeout=30,
                                       what="tools/list_changed after a tool was created over REST")
                assert _tool((await client.list_tools()).tools, f"custom__{name}") is not None
                shouted = await client.call_tool(f"custom__{name}", {"text": "hey"})
                assert "HEY" in text_of(shouted)

                before = notices.count
                (await http.delete(f"/v1/tools/{tool['id']}")).raise_for_status()
                await wait_until_async(lambda: notices.count > before, timeout=30,
                                       what="tools/list_changed after the tool was deleted over REST")
                assert _tool((await client.list_tools()).tools, f"custom__{name}") is None
