"""Letta's built-in tools, run in-process against ports the host implements.

Public surface: the carriers (ToolOutput, BuiltinTool, ToolContext, ServicesConfig,
CoreMemory, MemoryBlock, hits), the ports (ArchivalPort, RecallPort, AgentMessengerPort),
the registry (get_builtin, all_builtins, name sets), heartbeat helpers, the
arguments checker (check_arguments), the Composio
gateway and the exception tree. This package never imports ``host``.
"""

from builtin_tools.arguments import check_arguments
from builtin_tools.composio_tools import (
    ComposioAction,
    ComposioApp,
    ComposioClient,
    composio_tool,
    letta_schema,
    tool_name_for,
)
from builtin_tools.errors import BuiltinToolsError, ComposioError, MemoryEditError, UnknownAgentError
from builtin_tools.memory import CoreMemory, MemoryBlock
from builtin_tools.ports import (
    AgentMessengerPort,
    ArchivalPort,
    PassageHit,
    RecallHit,
    RecallPort,
    ServicesConfig,
    ToolContext,
)
from builtin_tools.registry import all_builtins, get_builtin
from builtin_tools.schemas import (
    BASE_MEMORY_TOOL_NAMES,
    BASE_TOOL_NAMES,
    BUILTIN_TOOL_NAMES,
    CORE_MEMORY_TOOL_NAMES,
    DEFAULT_AGENT_TOOL_NAMES,
    MULTI_AGENT_TOOL_NAMES,
    BuiltinTool,
    ToolOutput,
    strip_heartbeat,
    with_heartbeat,
)

__all__ = [
    "AgentMessengerPort",
    "ArchivalPort",
    "BASE_MEMORY_TOOL_NAMES",
    "BASE_TOOL_NAMES",
    "BUILTIN_TOOL_NAMES",
    "BuiltinTool",
    "BuiltinToolsError",
    "CORE_MEMORY_TOOL_NAMES",
    "ComposioAction",
    "ComposioApp",
    "ComposioError",
    "ComposioClient",
    "CoreMemory",
    "DEFAULT_AGENT_TOOL_NAMES",
    "MULTI_AGENT_TOOL_NAMES",
    "MemoryBlock",
    "MemoryEditError",
    "PassageHit",
    "RecallHit",
    "RecallPort",
    "ServicesConfig",
    "ToolContext",
    "ToolOutput",
    "UnknownAgentError",
    "all_builtins",
    "check_arguments",
    "composio_tool",
    "get_builtin",
    "letta_schema",
    "strip_heartbeat",
    "tool_name_for",
    "with_heartbeat",
]
