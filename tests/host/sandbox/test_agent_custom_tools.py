"""A custom tool inside an agent turn: the agent's tool variables reach it, its agent_state edits persist."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx

from tests.support.scripted_llm import ScriptedLLM

TOOL = '''
def remember_secret(note: str, agent_state: "AgentState") -> str:
    """Store a note next to the agent's secret.

    Args:
        note (str): What to store.

    Returns:
        str: What the tool saw.
    """
    import os
    agent_state.memory.update_block_value("human", f"{note}; secret={os.environ.get('AGENT_SECRET')}")
    return f"secret={os.environ.get('AGENT_SECRET')} openai={os.environ.get('OPENAI_API_KEY')}"
'''


def test_agent_tool_variables_and_block_edits(http: httpx.Client, scripted_llm: ScriptedLLM,
                                              unique: Callable[[str], str]) -> None:
    tool_name = unique("remember_secret")
    tool = http.post("/v1/tools", json={"source_code": TOOL.replace("remember_secret", tool_name)})
    assert tool.status_code == 200, tool.text
    model = unique("sandbox-model")
    agent = http.post("/v1/agents", json={
        "name": unique("sandbox-agent"), "model": f"openai-proxy/{model}",
        "embedding": "openai/text-embedding-3-small",
        "memory_blocks": [{"label": "human", "value": "nothing yet"}, {"label": "persona", "value": "helper"}],
        "tool_ids": [tool.json()["id"]],
        "tool_exec_environment_variables": {"AGENT_SECRET": "s3cr3t"},
    })
    assert agent.status_code == 200, agent.text
    agent_id = agent.json()["id"]
    try:
        queue = scripted_llm.for_model(model)
        queue.push_tool_call(tool_name, {"note": "likes tea", "request_heartbeat": True})
        queue.push_tool_call("send_message", {"message": "stored"})
        resp = http.post(f"/v1/agents/{agent_id}/messages",
                         json={"messages": [{"role": "user", "content": "remember"}]})
        assert resp.status_code == 200, resp.text
        messages: list[dict[str, Any]] = resp.json()["messages"]
        returns = [m for m in messages if m["message_type"] == "tool_return_message" and m.get("name") == tool_name]
        assert returns, messages
        assert returns[0]["status"] == "success", returns[0]
        assert returns[0]["tool_return"] == "secret=s3cr3t openai=None"

        memory = http.get(f"/v1/agents/{agent_id}/core-memory").json()
        human = next(b for b in memory["blocks"] if b["label"] == "human")
        assert human["value"] == "likes tea; secret=s3cr3t"
    finally:
        http.delete(f"/v1/agents/{agent_id}")
        http.delete(f"/v1/tools/{tool.json()['id']}")
