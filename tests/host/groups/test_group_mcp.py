"""The agent tools of `agenthost mcp` (here the /mcp endpoint of the running server, over host services) can
list groups and message one."""

from __future__ import annotations

import anyio
import pytest
from mcp import Client

from tests.mcp_server.conftest import json_of, text_of

pytestmark = pytest.mark.anyio


async def test_mcp_tools_list_and_message_a_group(server, http, make_agent):
    a, b = make_agent("mcpa"), make_agent("mcpb")
    a.script.push_tool_call("send_message", {"message": "from a"})
    b.script.push_tool_call("send_message", {"message": "from b"})
    group = http.post("/v1/groups", json={"agent_ids": [a.id, b.id], "description": "mcp pair"}).json()

    with anyio.fail_after(60):
        async with Client(server.base_url + "/mcp", mode="legacy") as client:
            listed = json_of(await client.call_tool("list_groups", {}))
            assert group["id"] in {g["id"] for g in listed}
            reply = await client.call_tool("send_message_to_group", {"group_id": group["id"], "message": "hi"})
            assert not reply.is_error, text_of(reply)
            assert text_of(reply).index("from a") < text_of(reply).index("from b")
            missing = await client.call_tool("send_message_to_group", {"group_id": "group-nope", "message": "hi"})
            assert missing.is_error and "group-nope" in text_of(missing)
