"""The official MCP conformance suite against ``/mcp``, and the features it checks driven by the SDK client.

The suite (npm ``@modelcontextprotocol/conformance``, Node 22 from the ``node`` package; ``npm ci`` in
tests/conformance) runs every active server scenario; ``tests/conformance/expected-failures.yml`` lists the
scenarios that call the suite's own fixture tools, resources and prompts by name, with the reason for each.
"""

from __future__ import annotations

from typing import Any

import anyio
import httpx
import mcp_types as types
import pytest
from mcp import Client
from mcp.shared.exceptions import MCPError

from tests.mcp_server.conftest import REPO, unique_model
from tests.support.scripted_llm import ScriptedLLM
from tests.support.server import ServerProcess

pytestmark = pytest.mark.anyio

SUITE = REPO / "tests" / "conformance"
NODE = SUITE / "node_modules" / ".bin" / "node"
CLI = SUITE / "node_modules" / "@modelcontextprotocol" / "conformance" / "dist" / "index.js"
needs_suite = pytest.mark.skipif(not (NODE.exists() and CLI.exists()), reason="run `npm ci` in tests/conformance")
PROTOCOL_SCENARIOS = ("server-initialize", "logging-set-level", "ping", "completion-complete", "tools-list",
                      "tools-call-error", "resources-list", "prompts-list", "dns-rebinding-protection")


def _create_agent(server: ServerProcess, name: str) -> str:
    body: dict[str, Any] = {"name": name, "model": f"openai-proxy/{name}",
                            "memory_blocks": [{"label": "human", "value": "The user is Ada."},
                                              {"label": "persona", "value": "I keep notes."}]}
    response = httpx.post(server.base_url + "/v1/agents/", json=body, timeout=30)
    response.raise_for_status()
    return str(response.json()["id"])


@needs_suite
async def test_the_conformance_suite_passes_but_for_the_fixture_scenarios(server: ServerProcess) -> None:
    _create_agent(server, unique_model("conformance"))  # completion has an agent to offer
    with anyio.fail_after(300):
        done = await anyio.run_process(
            [str(NODE), str(CLI), "server", "--url", server.base_url + "/mcp",
             "--expected-failures", str(SUITE / "expected-failures.yml")], cwd=str(SUITE), check=False)
    out = done.stdout.decode() + done.stderr.decode()
    assert done.returncode == 0, out[-4000:]
    summary = out[out.index("SUMMARY"):]
    for scenario in PROTOCOL_SCENARIOS:
        assert f"✓ {scenario}:" in summary, (scenario, summary)


async def test_prompts_render_with_the_agents_memory_and_completion_offers_agents_and_labels(
        server: ServerProcess) -> None:
    name = unique_model("prompted")
    agent_id = _create_agent(server, name)
    with anyio.fail_after(60):
        async with Client(server.base_url + "/mcp", mode="legacy") as client:
            prompts = {p.name: p for p in (await client.list_prompts()).prompts}
            assert set(prompts) == {"talk_to_agent", "summarize_agent_memory"}
            assert all(p.description for p in prompts.values())

            talk = await client.get_prompt("talk_to_agent", {"agent_id": agent_id, "message": "I like tea"})
            text = talk.messages[0].content.text  # type: ignore[union-attr]
            assert agent_id in text and "I like tea" in text and "send_message_to_agent" in text

            summary = await client.get_prompt("summarize_agent_memory", {"agent_id": agent_id})
            embedded = [m.content for m in summary.messages if isinstance(m.content, types.EmbeddedResource)]
            assert {str(e.resource.uri) for e in embedded} == {f"agenthost://agents/{agent_id}/blocks/human",
                                                               f"agenthost://agents/{agent_id}/blocks/persona"}
            assert "The user is Ada." in [e.resource.text for e in embedded]  # type: ignore[union-attr]

            with pytest.raises(MCPError, match="agent-nope"):
                await client.get_prompt("summarize_agent_memory", {"agent_id": "agent-nope"})
            with pytest.raises(MCPError, match="message"):
                await client.get_prompt("talk_to_agent", {"agent_id": agent_id})

            by_name = await client.complete(types.PromptReference(type="ref/prompt", name="talk_to_agent"),
                                            {"name": "agent_id", "value": name[:12]})
            assert agent_id in by_name.completion.values
            labels = await client.complete(
                types.ResourceTemplateReference(type="ref/resource",
                                                uri="agenthost://agents/{agent_id}/blocks/{label}"),
                {"name": "label", "value": "pe"}, context_arguments={"agent_id": agent_id})
            assert labels.completion.values == ["persona"]


async def test_logging_set_level_filters_the_log_notifications_of_a_turn(server: ServerProcess,
                                                                          scripted_llm: ScriptedLLM) -> None:
    model = unique_model("mcp-logs")
    agent_id = _create_agent(server, model)
    script = scripted_llm.for_model(model)

    async def turn(level: types.LoggingLevel) -> list[tuple[str, Any]]:
        got: list[tuple[str, Any]] = []

        async def on_log(params: types.LoggingMessageNotificationParams) -> None:
            got.append((params.level, params.data))

        script.push_tool_call("core_memory_append", {"label": "human", "content": "Likes tea.",
                                                     "request_heartbeat": True})
        script.push_tool_call("send_message", {"message": "Noted."})
        async with Client(server.base_url + "/mcp", mode="legacy", logging_callback=on_log) as client:
            await client.set_logging_level(level)
            reply = await client.call_tool("send_message_to_agent", {"agent_id": agent_id, "message": "tea"})
            assert not reply.is_error
        return got

    with anyio.fail_after(60):
        verbose = await turn("info")
        quiet = await turn("error")
    assert ("info", "calling tool core_memory_append") in verbose
    assert quiet == []
