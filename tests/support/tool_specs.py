"""Tool schemas the model-call tests offer (as ``host.llm.ToolSpec``)."""

from __future__ import annotations

from host.llm import ToolSpec

SEND_MESSAGE = ToolSpec(
    name="send_message",
    description="Send a message to the user.",
    parameters={"type": "object", "properties": {"message": {"type": "string"}}, "required": ["message"]},
)
ADD = ToolSpec(
    name="add",
    description="Add two numbers.",
    parameters={"type": "object", "properties": {"a": {"type": "number"}, "b": {"type": "number"}}},
)
