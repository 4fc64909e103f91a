"""Exceptions of the builtin_tools package.

Tool failures caused by the model (bad label, over-limit edit, missing key...) are
never exceptions: tools return ``ToolOutput(status="error")``. These classes are
for the contracts around the tools::

    BuiltinToolsError                 base of everything raised here
    +-- MemoryEditError               a refused core-memory edit (label, reason);
    |                                 raised by CoreMemory, turned into ToolOutput by the tools
    +-- UnknownAgentError             raised by an AgentMessengerPort for an unknown agent id
    +-- ComposioError                 a Composio call failed (REST catalogue routes use it)
"""

from __future__ import annotations


class BuiltinToolsError(Exception):
    """Base class of every exception raised by builtin_tools."""


class MemoryEditError(BuiltinToolsError):
    """A core-memory edit was refused; ``message`` is written for the model."""

    def __init__(self, label: str, message: str) -> None:
        super().__init__(message)
        self.label = label
        self.message = message


class UnknownAgentError(BuiltinToolsError):
    """The messenger port has no agent with this id."""

    def __init__(self, agent_id: str) -> None:
        super().__init__(f"No agent with id {agent_id!r} exists.")
        self.agent_id = agent_id


class ComposioError(BuiltinToolsError):
    """A Composio operation failed: ``message`` names the operation and the cause."""

    def __init__(self, operation: str, message: str, *, status_code: int | None = None) -> None:
        super().__init__(f"Composio {operation} failed: {message}")
        self.operation = operation
        self.message = message
        self.status_code = status_code
