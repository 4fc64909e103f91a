"""One turn's working state in the loop: the turn (fixed inputs beside ``RunState``) and a tool call's outcome."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime

from builtin_tools import AgentMessengerPort, CoreMemory

from host import llm
from host.agent.turn import AgentSnapshot, Emit, RunState, TurnRequest
from host.domain.messages import StoredMessage
from host.ids import utcnow
from host.tools.rules import ToolRulesSolver


@dataclass
class ToolOutcome:
    """What became of one tool call in a step. ``awaiting_approval``: not run, the turn pauses."""

    status: str = "error"
    text: str = ""
    stdout: list[str] | None = None
    stderr: list[str] | None = None
    keep_going: bool = True
    awaiting_approval: bool = False


@dataclass
class Turn:
    """One turn's fixed inputs (the agent as loaded, its rules) beside the mutable ``RunState``."""

    req: TurnRequest
    snap: AgentSnapshot
    solver: ToolRulesSolver
    memory: CoreMemory
    state: RunState
    context: list[StoredMessage]  # in-context history without the system message
    system: StoredMessage | None
    terminal: set[str]
    specs: list[llm.ToolSpec]  # every tool as the model sees it; each step offers the allowed ones
    emit: Emit | None
    version: datetime | None  # the agent row's updated_at as this turn last saw it; None: do not cache
    recall: int = 0  # messages stored for the agent, as of the last count
    archival: int = 0
    closed: bool = False  # the last step is written: the run closed with it (and autoclear applied)
    messenger: AgentMessengerPort | None = None  # agent-to-agent delivery for the multi-agent tools
    client: list[llm.ToolSpec] = field(default_factory=list)  # 1.x client_tools: the client runs them

    def is_client_tool(self, name: str) -> bool:
        return self.snap.tool(name) is None and any(c.name == name for c in self.client)

    @property
    def system_id(self) -> str | None:
        return self.system.id if self.system is not None else None


def package_return(status: str, text: str) -> str:
    """Letta's packaged tool return, as the model sees it."""
    return json.dumps({"status": "OK" if status == "success" else "Failed", "message": text,
                       "time": utcnow().strftime("%Y-%m-%d %I:%M:%S %p UTC+0000")}, ensure_ascii=False)


def denial_text(reason: str | None) -> str:
    return "Error: request to call tool denied. User reason: " + (reason or "(none given)")


__all__ = ["ToolOutcome", "Turn", "denial_text", "package_return"]
