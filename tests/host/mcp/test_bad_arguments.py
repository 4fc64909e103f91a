"""A model's bad tool arguments through a real turn: the schema check answers, the model reads it and recovers.

Real parts: the agenthost subprocess, the scripted model, the stdio MCP peer (tests/peers/peer_server.py),
the local sandbox for the custom tool.
"""

from __future__ import annotations

import textwrap
from typing import Any

from tests.host.mcp.mcp_gateway import Gateway
from tests.support.scripted_llm import ScriptedLLM


def _returns(response: Any) -> list[tuple[str, str]]:
    return [(m.status, m.tool_return) for m in response.messages if m.message_type == "tool_return_message"]


def _send(gw: Gateway, agent_id: str) -> Any:
    return gw.client.agents.messages.create(agent_id=agent_id, messages=[{"role": "user", "content": "go"}])


def _tool_messages(request: dict[str, Any]) -> list[str]:
    return [m["content"] for m in request["messages"] if m["role"] == "tool"]


def test_an_mcp_tool_given_bad_arguments_is_an_error_the_model_reads_and_recovers_from(
        gw: Gateway, make_agent, scripted_llm: ScriptedLLM) -> None:
    tool = gw.client.tools.add_mcp_tool(mcp_server_name="peer", mcp_tool_name="add")
    agent, model = make_agent([tool.id])
    queue = scripted_llm.for_model(model)
    queue.push_tool_call(tool.name, {"a": "abc", "b": 3, "request_heartbeat": True})
    queue.push_tool_call(tool.name, {"a": 2, "b": 3, "request_heartbeat": True})
    queue.push_tool_call("send_message", {"message": "2 + 3 = 5"})

    response = _send(gw, agent.id)

    expected = f"Invalid arguments for {tool.name}: argument 'a' must be of type number: 'abc' is not of type 'number'"
    (bad_status, bad_text), second = _returns(response)[:2]
    assert bad_status == "error" and bad_text.startswith(expected), bad_text
    assert second == ("success", "5"), "the model's corrected call runs"
    requests = scripted_llm.requests_for(model)
    assert len(requests) == 3
    assert _tool_messages(requests[1])[-1].find(expected) >= 0, "the model's next step sees the error"
    assert [m.message_type for m in response.messages][-1] == "assistant_message"


def test_a_custom_tool_given_bad_arguments_never_reaches_the_sandbox(
        gw: Gateway, make_agent, unique, scripted_llm: ScriptedLLM) -> None:
    name = unique("double")
    tool = gw.client.tools.create(source_code=textwrap.dedent(f'''
        def {name}(n: int, label: str = "x") -> str:
            """Double a number.

            Args:
                n (int): The number.
                label (str): A label.
            """
            return f"{{label}}={{n * 2}}"
    ''').lstrip())
    try:
        agent, model = make_agent([tool.id])
        queue = scripted_llm.for_model(model)
        queue.push_tool_call(name, {"label": ["not", "a", "string"], "request_heartbeat": True})
        queue.push_tool_call(name, {"n": 4, "label": "y", "request_heartbeat": True})
        queue.push_tool_call("send_message", {"message": "8"})

        response = _send(gw, agent.id)

        (bad_status, bad_text), second = _returns(response)[:2]
        assert bad_status == "error"
        assert bad_text.startswith(f"Invalid arguments for {name}: missing required argument(s) n; "
                                   "argument 'label' must be of type string: ['not', 'a', 'string'] is not of "
                                   "type 'string'"), bad_text
        assert bad_text.endswith("expected (n: integer, label: string (optional)).")
        assert second == ("success", "y=8")
        assert bad_text in _tool_messages(scripted_llm.requests_for(model)[1])[-1]
        bad_return = next(m for m in response.messages if m.message_type == "tool_return_message")
        assert not bad_return.stdout and not bad_return.stderr, "nothing ran"
    finally:
        gw.client.tools.delete(tool_id=tool.id)
