"""`agenthost mcp` over stdio, driven by the mcp SDK client, against its own local database."""

from __future__ import annotations

from pathlib import Path

import anyio
import pytest
from mcp import Client

from tests.mcp_server.conftest import json_of, stdio_params, text_of, unique_model
from tests.support.scripted_llm import ScriptedLLM

pytestmark = pytest.mark.anyio

TOOL_SOURCE = '''
def shout(text: str) -> str:
    """Shout the text.

    Args:
        text: what to shout
    """
    return text.upper() + "!"
'''


async def test_stdio_server_creates_messages_and_remembers_with_no_other_process(
        stdio_home: Path, stdio_db: str | None, scripted_llm: ScriptedLLM) -> None:
    model = unique_model("mcp-stdio")
    scripted_llm.for_model(model).push_tool_call("send_message", {"message": "Hello from the agent"})
    with anyio.fail_after(40):
        async with Client(stdio_params(stdio_home, scripted_llm, pg_uri=stdio_db)) as client:
            names = {t.name for t in (await client.list_tools()).tools}
            assert {"create_agent", "send_message_to_agent", "read_memory_blocks", "run_tool_code"} <= names

            agent = json_of(await client.call_tool("create_agent", {
                "name": "stdio-agent", "model": f"openai-proxy/{model}", "human": "The user is Ada."}))
            agent_id = agent["id"]
            assert [a["id"] for a in json_of(await client.call_tool("list_agents", {}))] == [agent_id]

            reply = await client.call_tool("send_message_to_agent", {"agent_id": agent_id, "message": "hi"})
            assert not reply.is_error and "Hello from the agent" in text_of(reply)

            blocks = json_of(await client.call_tool("read_memory_blocks", {"agent_id": agent_id}))
            assert {b["label"]: b["value"] for b in blocks}["human"] == "The user is Ada."
            changed = json_of(await client.call_tool("replace_memory_block", {
                "agent_id": agent_id, "label": "human", "old_text": "Ada", "new_text": "Grace"}))
            assert changed["value"] == "The user is Grace."

            await client.call_tool("insert_archival_memory", {"agent_id": agent_id, "text": "Grace likes tea"})
            hits = json_of(await client.call_tool("search_archival_memory", {"agent_id": agent_id,
                                                                             "query": "tea"}))
            assert hits[0]["text"] == "Grace likes tea"

            found = json_of(await client.call_tool("search_conversation_history",
                                                   {"agent_id": agent_id, "query": "Hello from"}))
            assert any("Hello from the agent" in (h.get("text") or h.get("arguments") or "") for h in found)

            ran = await client.call_tool("run_tool_code", {"source_code": TOOL_SOURCE, "args": {"text": "hey"}})
            assert not ran.is_error and text_of(ran).startswith("HEY!")

            missing = await client.call_tool("get_agent", {"agent_id": "agent-00000000-0000-0000-0000-000000000000"})
            assert missing.is_error and "not found" in text_of(missing).lower()
