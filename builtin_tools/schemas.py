"""Tool carriers: ToolOutput, BuiltinTool, Letta's tool-name sets and heartbeat helpers.

A ``BuiltinTool`` carries Letta's catalogue fields (name, tool_type, tags, description,
json_schema) and an async implementation. ``BuiltinTool.run`` checks the model's
arguments against the json schema first (``builtin_tools.arguments``, jsonschema; arguments
the schema does not name are refused), so implementations receive well-typed values
and a malformed call comes back as ``ToolOutput(status="error")`` naming the fix.
"""

from __future__ import annotations

import copy
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

from builtin_tools.arguments import check_arguments

if TYPE_CHECKING:
    from builtin_tools.ports import ToolContext

ToolStatus = Literal["success", "error"]
ToolType = Literal[
    "letta_core",
    "letta_memory_core",
    "letta_multi_agent_core",
    "letta_sleeptime_core",
    "letta_voice_sleeptime_core",
    "letta_builtin",
    "letta_files_core",
    "external_composio",
    "external_mcp",
    "custom",
]

BASE_TOOL_NAMES: tuple[str, ...] = (
    "send_message",
    "conversation_search",
    "archival_memory_insert",
    "archival_memory_search",
)
CORE_MEMORY_TOOL_NAMES: tuple[str, ...] = ("core_memory_append", "core_memory_replace")
BASE_MEMORY_TOOL_NAMES: tuple[str, ...] = ("memory_replace", "memory_insert", "memory_rethink")
MULTI_AGENT_TOOL_NAMES: tuple[str, ...] = (
    "send_message_to_agent_and_wait_for_reply",
    "send_message_to_agents_matching_tags",
    "send_message_to_agent_async",
)
BUILTIN_TOOL_NAMES: tuple[str, ...] = ("web_search", "run_code", "fetch_webpage")
# What Letta 0.8.17 attaches to a new agent with include_base_tools=true.
DEFAULT_AGENT_TOOL_NAMES: tuple[str, ...] = (
    "send_message",
    "conversation_search",
    "core_memory_append",
    "core_memory_replace",
)

HEARTBEAT_PARAM = "request_heartbeat"
HEARTBEAT_DESCRIPTION = (
    "Request an immediate heartbeat after function execution. "
    "Set to true if you want to send a follow-up message or run a follow-up tool."
)


@dataclass(frozen=True, slots=True)
class ToolOutput:
    """What a tool hands back to the model: a status and text."""

    status: ToolStatus
    text: str

    @classmethod
    def success(cls, text: str) -> ToolOutput:
        return cls("success", text)

    @classmethod
    def error(cls, text: str) -> ToolOutput:
        return cls("error", text)

    @property
    def ok(self) -> bool:
        return self.status == "success"


ToolImpl = Callable[[dict[str, Any], "ToolContext"], Awaitable[ToolOutput]]


@dataclass(frozen=True, slots=True)
class BuiltinTool:
    """One built-in tool: Letta catalogue fields plus its implementation."""

    name: str
    tool_type: str
    description: str
    json_schema: dict[str, Any]
    impl: ToolImpl = field(repr=False)
    tags: tuple[str, ...] = ()
    return_char_limit: int = 1_000_000
    # False for tools that end the turn (send_message): no request_heartbeat offered.
    heartbeat: bool = True

    def schema_for_model(self) -> dict[str, Any]:
        """The json schema as offered to the model (with request_heartbeat when applicable)."""
        return with_heartbeat(self.json_schema) if self.heartbeat else copy.deepcopy(self.json_schema)

    async def run(self, args: dict[str, Any], ctx: ToolContext) -> ToolOutput:
        """Validate ``args`` (request_heartbeat removed) and run the tool."""
        args, _ = strip_heartbeat(args)
        problem = check_arguments(self.json_schema.get("parameters"), args, closed=True)
        if problem is not None:
            return ToolOutput.error(f"Invalid arguments for {self.name}: {problem}")
        return await self.impl(args, ctx)


def make_schema(
    name: str,
    description: str,
    properties: dict[str, dict[str, Any]],
    required: list[str],
) -> dict[str, Any]:
    """A json schema in Letta's shape: {name, description, parameters{type, properties, required}}."""
    return {
        "name": name,
        "description": description,
        "parameters": {"type": "object", "properties": properties, "required": required},
    }


def with_heartbeat(json_schema: dict[str, Any]) -> dict[str, Any]:
    """A copy of ``json_schema`` with Letta's required ``request_heartbeat`` boolean added."""
    schema = copy.deepcopy(json_schema)
    params = schema.setdefault("parameters", {"type": "object", "properties": {}, "required": []})
    params.setdefault("type", "object")
    params.setdefault("properties", {})[HEARTBEAT_PARAM] = {
        "type": "boolean",
        "description": HEARTBEAT_DESCRIPTION,
    }
    required = params.setdefault("required", [])
    if HEARTBEAT_PARAM not in required:
        required.append(HEARTBEAT_PARAM)
    return schema


def strip_heartbeat(args: dict[str, Any]) -> tuple[dict[str, Any], bool]:
    """Split ``request_heartbeat`` off the model's arguments: (other args, heartbeat requested)."""
    rest = {k: v for k, v in args.items() if k != HEARTBEAT_PARAM}
    raw = args.get(HEARTBEAT_PARAM, False)
    requested = raw is True or (isinstance(raw, str) and raw.strip().lower() == "true")
    return rest, requested
