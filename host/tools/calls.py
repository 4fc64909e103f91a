"""One rule-checked tool call: the single path by which the agent loop and the MCP server's tool
catalogue run a tool under an agent's rules.

    check the rule   -> a refused call is a tool error the caller shows (the model, or the MCP client)
    approval gate    -> a ``requires_approval`` tool is not run: ``awaiting_approval``
    build a context  -> through the injected ``ToolContextFactory`` (archival, recall, messenger, env)
    dispatch         -> the one ``ToolDispatcher``
    record + decide  -> the solver's next state and its decision after the call

What the caller does with the decision differs and stays with the caller: the loop continues, pauses or
ends its turn; the MCP server keeps one solver state per session and tells the client when a rule ends
the sequence. Unscoped calls (no agent) skip the rules and run with a context that has no memory.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any, Protocol

from builtin_tools import AgentMessengerPort, CoreMemory, ToolContext, strip_heartbeat
from host.tools.dispatcher import ToolDispatcher, ToolInfo, ToolResult
from host.tools.rules import Decision, SolverState, ToolRulesSolver

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class ToolScope:
    """The agent a call runs for, as far as a tool context needs it."""

    agent_id: str
    agent_name: str
    env: dict[str, str] = field(default_factory=dict)  # the agent's tool variables


class ToolContextFactory(Protocol):
    """Builds the ``ToolContext`` of one call (implemented by the services, injected at wiring time)."""

    def for_agent(self, scope: ToolScope, memory: CoreMemory, *, call_depth: int = 0,
                  messenger: AgentMessengerPort | None = None) -> ToolContext: ...

    def unscoped(self) -> ToolContext: ...


@dataclass
class RuledCall:
    """What became of one rule-checked call.

    ``result`` is None when the tool did not run: refused by a rule (``refusal``) or held for approval
    (``awaiting_approval``). ``decision`` is the solver's decision after a call that ran under rules.
    """

    state: SolverState
    result: ToolResult | None = None
    refusal: str | None = None
    awaiting_approval: bool = False
    wants_heartbeat: bool = False
    decision: Decision | None = None


@dataclass
class ToolCaller:
    """Runs tool calls: under an agent's rules (``call``) or for no agent (``call_unscoped``)."""

    dispatcher: ToolDispatcher
    contexts: ToolContextFactory

    async def call(self, solver: ToolRulesSolver, state: SolverState, scope: ToolScope, tool: ToolInfo,
                   args: dict[str, Any], memory: CoreMemory, *, approved: bool = False, call_depth: int = 0,
                   messenger: AgentMessengerPort | None = None) -> RuledCall:
        if not approved:
            violation = solver.check_call(state, tool.name)
            if violation is not None:
                logger.info("agent %s: call to %s refused (%s)", scope.agent_id, tool.name, violation.code)
                return RuledCall(state, refusal=violation.message)
            if solver.decide_before_call(state, tool.name) is not None:
                return RuledCall(state, awaiting_approval=True)
        args, wants_heartbeat = strip_heartbeat(args)
        ctx = self.contexts.for_agent(scope, memory, call_depth=call_depth, messenger=messenger)
        result = await self.dispatcher.call(tool, args, ctx, agent_env=dict(scope.env))
        state = solver.record(state, tool.name, result.text)
        return RuledCall(state, result=result, wants_heartbeat=bool(wants_heartbeat),
                         decision=solver.decide_after_call(state, tool.name))

    async def call_unscoped(self, tool: ToolInfo, args: dict[str, Any]) -> ToolResult:
        return await self.dispatcher.call(tool, args, self.contexts.unscoped())


__all__ = ["RuledCall", "ToolCaller", "ToolContextFactory", "ToolScope"]
