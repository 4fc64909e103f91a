"""`/mcp` on a running `agenthost serve`, driven by the mcp SDK client on old and new protocol revisions."""

from __future__ import annotations

from typing import Any

import anyio
import httpx
import pytest
from mcp import Client
from mcp.client.streamable_http import streamable_http_client

from tests.mcp_server.conftest import json_of, stdio_params, text_of, unique_model
from tests.support.scripted_llm import ScriptedLLM
from tests.support.server import ServerProcess

pytestmark = pytest.mark.anyio


def _create_agent(server: ServerProcess, model: str) -> str:
    body = {"name": model, "model": f"openai-proxy/{model}",
            "memory_blocks": [{"label": "human", "value": "The user is Ada."}, {"label": "persona", "value": "p"}]}
    response = httpx.post(server.base_url + "/v1/agents/", json=body, timeout=30)
    response.raise_for_status()
    return str(response.json()["id"])


async def test_handshake_client_gets_progress_and_resource_updates(server: ServerProcess,
                                                                   scripted_llm: ScriptedLLM) -> None:
    model = unique_model("mcp-http")
    agent_id = _create_agent(server, model)
    scripted_llm.for_model(model).push_tool_call(
        "core_memory_append", {"label": "human", "content": "Likes tea.", "request_heartbeat": True}
    ).push_tool_call("send_message", {"message": "Noted."})
    uri = f"agenthost://agents/{agent_id}/blocks/human"
    updated: list[str] = []
    got_update = anyio.Event()

    async def on_message(message: Any) -> None:
        if getattr(message, "method", None) == "notifications/resources/updated":
            updated.append(str(message.params.uri))
            got_update.set()

    progress: list[str | None] = []

    async def on_progress(value: float, total: float | None, message: str | None) -> None:
        progress.append(message)

    with anyio.fail_after(30):
        async with Client(server.base_url + "/mcp", mode="legacy", message_handler=on_message) as client:
            assert client.protocol_version == "2025-11-25"
            templates = (await client.list_resource_templates()).resource_templates
            assert {t.uri_template for t in templates} == {"agenthost://agents/{agent_id}/blocks/{label}",
                                                          "agenthost://agents/{agent_id}/history"}
            await client.session.subscribe_resource(uri)
            reply = await client.call_tool("send_message_to_agent", {"agent_id": agent_id, "message": "I like tea"},
                                           progress_callback=on_progress)
            assert not reply.is_error, text_of(reply)
            assert "Noted." in text_of(reply) and "core_memory_append" in text_of(reply)
            assert "calling tool core_memory_append" in progress
            await got_update.wait()
            assert updated[0] == uri
            read = await client.read_resource(uri)
            assert read.contents[0].text == "The user is Ada.\nLikes tea."

            got_update = anyio.Event()
            await client.call_tool("append_memory_block", {"agent_id": agent_id, "label": "human", "text": "Tall."})
            await got_update.wait()
            history = await client.read_resource(f"agenthost://agents/{agent_id}/history")
            assert "I like tea" in history.contents[0].text


async def test_modern_client_lists_runs_and_listens_for_updates(server: ServerProcess) -> None:
    agent_id = _create_agent(server, unique_model("mcp-modern"))
    uri = f"agenthost://agents/{agent_id}/blocks/human"
    with anyio.fail_after(30):
        async with Client(server.base_url + "/mcp") as client:
            assert client.protocol_version == "2026-07-28"
            resources = {str(r.uri) for r in (await client.list_resources()).resources}
            assert uri in resources
            async with client.listen(resource_subscriptions=[uri]) as sub:
                changed = await client.call_tool("replace_memory_block", {"agent_id": agent_id, "label": "human",
                                                                          "new_text": "The user is Grace."})
                assert json_of(changed)["value"] == "The user is Grace."
                async for event in sub:
                    assert event.uri == uri
                    break
            missing = await client.call_tool("read_memory_blocks", {"agent_id": "agent-nope"})
            assert missing.is_error and "agent-nope" in text_of(missing)


async def test_password_protects_mcp_endpoint_and_the_stdio_bridge_uses_it(
        secure_server: ServerProcess, tmp_path: Any, scripted_llm: ScriptedLLM) -> None:
    srv = secure_server
    init = {"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
        "protocolVersion": "2025-03-26", "capabilities": {}, "clientInfo": {"name": "t", "version": "1"}}}
    headers = {"Accept": "application/json, text/event-stream"}
    refused = httpx.post(srv.base_url + "/mcp", json=init, headers=headers, timeout=10)
    assert refused.status_code == 401
    with anyio.fail_after(20):
        async with httpx.AsyncClient(headers={"Authorization": "Bearer s3cret"}) as http:
            async with Client(streamable_http_client(srv.base_url + "/mcp", http_client=http)) as client:
                assert "list_agents" in {t.name for t in (await client.list_tools()).tools}

    model = unique_model("mcp-bridge")
    scripted_llm.for_model(model).push_tool_call("send_message", {"message": "bridged hello"})
    params = stdio_params(tmp_path / "bridge-home", None, "--url", srv.base_url, "--password", "s3cret")
    with anyio.fail_after(40):
        async with Client(params) as client:
            agent = json_of(await client.call_tool("create_agent", {"model": f"openai-proxy/{model}"}))
            reply = await client.call_tool("send_message_to_agent", {"agent_id": agent["id"], "message": "hi"})
            assert "bridged hello" in text_of(reply)
            edited = await client.call_tool("append_memory_block", {"agent_id": agent["id"], "label": "human",
                                                                     "text": "Bridged."})
            assert json_of(edited)["value"].endswith("Bridged.")
            missing = await client.call_tool("get_agent", {"agent_id": "agent-nope"})
            assert missing.is_error
        wrong = stdio_params(tmp_path / "bridge-home", None, "--url", srv.base_url, "--password", "wrong")
        async with Client(wrong) as client:
            refused_call = await client.call_tool("list_agents", {})
            assert refused_call.is_error and "password" in text_of(refused_call)


@pytest.mark.parametrize("version", ["2025-03-26", "2025-06-18"])
def test_older_revisions_negotiate_and_list_tools(server: ServerProcess, version: str) -> None:
    headers = {"Accept": "application/json, text/event-stream", "Content-Type": "application/json"}
    init = {"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
        "protocolVersion": version, "capabilities": {}, "clientInfo": {"name": "old", "version": "1"}}}
    with httpx.Client(base_url=server.base_url, timeout=10) as http:
        opened = http.post("/mcp", json=init, headers=headers)
        assert opened.status_code == 200, opened.text
        assert _rpc_result(opened)["protocolVersion"] == version
        session = {**headers, "Mcp-Session-Id": opened.headers["mcp-session-id"], "Mcp-Protocol-Version": version}
        http.post("/mcp", json={"jsonrpc": "2.0", "method": "notifications/initialized"}, headers=session)
        listed = http.post("/mcp", json={"jsonrpc": "2.0", "id": 2, "method": "tools/list"}, headers=session)
        assert "send_message_to_agent" in {t["name"] for t in _rpc_result(listed)["tools"]}


def test_a_request_arriving_right_after_start_up_is_answered(make_server: Any) -> None:
    """The SDK behind /mcp loads in the background once the server is up: a client that comes first
    waits for it instead of being turned away."""
    srv = make_server()
    headers = {"Accept": "application/json, text/event-stream", "Content-Type": "application/json"}
    init = {
        "jsonrpc": "2.0",
        "id": 1,
        "method": "initialize",
        "params": {
            "protocolVersion": "2025-06-18",
            "capabilities": {},
            "clientInfo": {"name": "early", "version": "1"},
        },
    }
    with httpx.Client(base_url=srv.base_url, timeout=30) as http:
        opened = http.post("/mcp", json=init, headers=headers)
        assert opened.status_code == 200, opened.text
        assert _rpc_result(opened)["serverInfo"]["name"] == "agenthost"
        session = {**headers, "Mcp-Session-Id": opened.headers["mcp-session-id"], "Mcp-Protocol-Version": "2025-06-18"}
        http.post("/mcp", json={"jsonrpc": "2.0", "method": "notifications/initialized"}, headers=session)
        listed = http.post("/mcp", json={"jsonrpc": "2.0", "id": 2, "method": "tools/list"}, headers=session)
        assert "list_agents" in {t["name"] for t in _rpc_result(listed)["tools"]}


def _rpc_result(response: httpx.Response) -> dict[str, Any]:
    import json

    text = response.text
    if response.headers.get("content-type", "").startswith("text/event-stream"):
        text = next(line[5:].strip() for line in text.splitlines() if line.startswith("data:"))
    return dict(json.loads(text)["result"])
