"""One turn's working state in the loop: the turn (fixed inputs beside ``RunState``) and a tool call's outcome."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from builtin_tools import AgentMessengerPort, CoreMemory
from host import llm
from host.agent.context import to_chat, tool_specs
from host.agent.store import Loaded, RefreshRead
from host.agent.turn import AgentSnapshot, Emit, RunState, Timings, TurnRequest
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
    refreshed: RefreshRead | None = None  # the next step's refresh, read by the last step's write (SQLite)

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


def new_turn(req: TurnRequest, loaded: Loaded, emit: Emit | None, timings: Timings,
             messenger: AgentMessengerPort | None) -> Turn:
    """A turn's fixed inputs from the agent as loaded (also used to preview a step's request)."""
    snap, history = loaded.snap, loaded.history
    terminal = {r.tool_name for r in snap.rules if r.type == "exit_loop"}
    return Turn(req=req, snap=snap, memory=CoreMemory.of(snap.blocks), state=RunState(timings=timings), emit=emit,
                solver=ToolRulesSolver(rules=tuple(snap.rules), available_tools=frozenset(x.name for x in snap.tools)),
                system=history[0] if history and history[0].role == "system" else None,
                context=[m for m in history if m.role != "system"], terminal=terminal,
                specs=tool_specs(snap, frozenset(x.name for x in snap.tools), terminal),
                version=snap.version, recall=loaded.recall, archival=loaded.archival, messenger=messenger,
                client=[llm.ToolSpec(name=c.name, description=c.description, parameters=c.parameters)
                        for c in req.client_tools if snap.tool(c.name) is None])


def offered(t: Turn) -> tuple[list[llm.ToolSpec], Any]:
    """The tools this step offers (the rules' allowed ones, then the client's) and the tool choice: the rules'
    forced tool, else any tool (``required``), or ``auto`` for a letta_v1_agent, whose text answer ends the turn."""
    allowed = t.solver.allowed_tools(t.state.solver)
    specs = [spec for spec in t.specs if spec.name in allowed] + t.client
    forced = t.solver.forced_tool(t.state.solver)
    tool_choice: Any = None
    if specs:
        tool_choice = {"name": forced} if forced and forced in {s.name for s in specs} else (
            "auto" if t.snap.v1_loop else "required")
    return specs, tool_choice


def step_request(t: Turn, sys_text: str, specs: list[llm.ToolSpec], tool_choice: Any, timeout_s: float
                 ) -> llm.LlmRequest:
    """The model request of a step, from the context as it stands (after eviction)."""
    return llm.LlmRequest(config=t.snap.llm, messages=to_chat(t.context, sys_text), tools=specs,
                          tool_choice=tool_choice, timeout_s=timeout_s)
