"""The tool-rule solver: which tools may come next in a turn, and whether the turn goes on. No I/O.

State is a value: :class:`SolverState` holds the turn's calls so far (it starts empty each turn);
:meth:`ToolRulesSolver.record` returns a new state. The loop drives it like this, per model call::

    offered = solver.allowed_tools(state)            # tools to send; forced_tool() -> tool_choice
    v = solver.check_call(state, name)               # Violation: return v.message as an error
    if v: ...                                        #   tool result; do not record; continue
    d = solver.decide_before_call(state, name)       # Decision "approval_required": pause turn
    output = <run the tool>
    state = solver.record(state, name, output)
    d = solver.decide_after_call(state, name)        # end_turn | continue | model_decides

Allowed tools are the agent's tools narrowed by every rule that applies (intersection):
``run_first`` (first call only: one of the init tools), ``constrain_child_tools`` and
``conditional`` (keyed on the last call), ``parent_last_tool`` (a child is allowed only right after
one of its parents; unlike Letta's code, other tools stay allowed after the parent),
``max_count_per_step`` (a tool at its limit is out) and ``required_before_exit`` (see below).
``exit_loop``, ``continue_loop`` and ``requires_approval`` never narrow the set.

Required tools before exit: while a ``required_before_exit`` tool is uncalled, a terminal tool
that would not itself satisfy the last missing requirement is *not offered*, and a call to it is
*rejected* by :meth:`check_call` (code ``required_tools_missing``, message naming the missing
tools); the turn continues. A non-terminal call that would let the model stop (``model_decides``)
becomes ``continue`` with reason ``required_tools_missing`` and a message to feed the model.

No tool allowed: if, after a call, the rules leave nothing callable (e.g. a child rule whose
children are all at their max count, or a terminal tool blocked by a missing requirement), the turn
cannot go on: :meth:`decide_after_call` returns ``end_turn`` with reason ``no_tool_allowed``
(Letta stop reason ``tool_rule``), unless the call was terminal (then ``terminal_tool``). This is
an abnormal end: required tools may still be missing. A ``conditional`` rule with
``require_output_mapping`` whose output matched no key ends the turn the same way with reason
``conditional_no_match`` (stop reason ``error``). :meth:`allowed_tools` returns the empty set in
both cases. Before the first call, an empty set only happens for an agent with no usable tools;
the loop then calls the model without tools.

After a call, in order: terminal tool -> ``end_turn``; conditional no-match -> ``end_turn``;
nothing allowed -> ``end_turn``; ``continue_loop`` tool -> ``continue``; the tool has a child or
conditional rule -> ``continue`` (as Letta); required tools missing -> ``continue``;
otherwise ``model_decides`` (continue iff the model set ``request_heartbeat``).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Literal

from host.tools.rule_guidance import prompt_guidance
from host.tools.rule_matching import match_output
from host.tools.rule_models import (
    ChildToolRule,
    ConditionalToolRule,
    ContinueToolRule,
    InitToolRule,
    MaxCountPerStepToolRule,
    ParentToolRule,
    RequiredBeforeExitToolRule,
    RequiresApprovalToolRule,
    TerminalToolRule,
    ToolRule,
)

__all__ = [
    "Decision",
    "DecisionKind",
    "DecisionReason",
    "SolverState",
    "ToolRulesSolver",
    "Violation",
    "match_output",
    "prompt_guidance",
]

DecisionKind = Literal["end_turn", "continue", "approval_required", "model_decides"]
DecisionReason = Literal[
    "terminal_tool",
    "no_tool_allowed",
    "conditional_no_match",
    "continue_tool",
    "child_rule",
    "required_tools_missing",
    "requires_approval",
    "heartbeat",
]
ViolationCode = Literal[
    "unknown_tool",
    "init_rule",
    "child_rule",
    "conditional_rule",
    "parent_rule",
    "max_count",
    "required_tools_missing",
]

_STOP_REASONS: Mapping[str, str] = {
    "terminal_tool": "end_turn",
    "no_tool_allowed": "tool_rule",
    "conditional_no_match": "error",
    "requires_approval": "requires_approval",
}


@dataclass(frozen=True, slots=True)
class SolverState:
    """One turn's tool calls so far. Start each turn with ``SolverState()``."""

    history: tuple[str, ...] = ()
    last_output: str | None = None
    counts: Mapping[str, int] = field(default_factory=lambda: MappingProxyType({}), hash=False)

    @property
    def last_tool(self) -> str | None:
        return self.history[-1] if self.history else None

    def count(self, tool_name: str) -> int:
        return self.counts.get(tool_name, 0)


@dataclass(frozen=True, slots=True)
class Decision:
    """What the loop does next. ``message`` is for the model when the rules force a step."""

    kind: DecisionKind
    reason: DecisionReason
    message: str = ""
    allowed_next: frozenset[str] = frozenset()
    missing_required: tuple[str, ...] = ()

    @property
    def stop_reason(self) -> str | None:
        """Letta's ``stop_reason`` when this decision pauses or ends the turn."""
        if self.kind in ("continue", "model_decides"):
            return None
        return _STOP_REASONS.get(self.reason, "end_turn")


@dataclass(frozen=True, slots=True)
class Violation:
    """Why a call is refused. ``message`` is written for the model and names the allowed tools."""

    tool_name: str
    code: ViolationCode
    message: str
    allowed: frozenset[str]
    missing_required: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class _Filter:
    code: ViolationCode
    keep: frozenset[str] | None  # None: no restriction to a set
    drop: frozenset[str]
    explain: str  # may use {tool}


def _names(tools: Iterable[str]) -> str:
    ordered = sorted(tools)
    return ", ".join(ordered) if ordered else "(none)"


@dataclass(frozen=True)
class ToolRulesSolver:
    rules: tuple[ToolRule, ...]
    available_tools: frozenset[str]

    def __post_init__(self) -> None:
        object.__setattr__(self, "rules", tuple(self.rules))
        object.__setattr__(self, "available_tools", frozenset(self.available_tools))

    # -- rule lookups -------------------------------------------------------------------------

    def _of(self, kind: type) -> list:
        return [rule for rule in self.rules if isinstance(rule, kind)]

    def _names_of(self, kind: type) -> frozenset[str]:
        return frozenset(rule.tool_name for rule in self._of(kind))

    def _init_tools(self) -> frozenset[str]:
        return self._names_of(InitToolRule)

    def is_terminal(self, tool_name: str) -> bool:
        return tool_name in self._names_of(TerminalToolRule)

    def is_continue(self, tool_name: str) -> bool:
        return tool_name in self._names_of(ContinueToolRule)

    def needs_approval(self, tool_name: str) -> bool:
        return tool_name in self._names_of(RequiresApprovalToolRule)

    def max_count(self, tool_name: str) -> int | None:
        limits = [r.max_count_limit for r in self._of(MaxCountPerStepToolRule) if r.tool_name == tool_name]
        return min(limits) if limits else None

    def _conditional_unmatched(self, state: SolverState) -> ConditionalToolRule | None:
        for rule in self._of(ConditionalToolRule):
            if (
                rule.tool_name == state.last_tool
                and rule.require_output_mapping
                and match_output(state.last_output, rule.child_output_mapping) is None
            ):
                return rule
        return None

    # -- the allowed set ----------------------------------------------------------------------

    def _filters(self, state: SolverState) -> list[_Filter]:
        filters: list[_Filter] = []
        last = state.last_tool
        init = self._init_tools()
        if last is None and init:
            filters.append(
                _Filter("init_rule", init, frozenset(), f"The first tool call must be one of: {_names(init)}.")
            )
        for rule in self._of(ChildToolRule):
            if rule.tool_name == last:
                kids = frozenset(rule.children)
                filters.append(
                    _Filter("child_rule", kids, frozenset(), f"After {last} you may only call: {_names(kids)}.")
                )
        for rule in self._of(ConditionalToolRule):
            if rule.tool_name == last:
                filters.extend(self._conditional_filter(rule, state.last_output))
        parents: dict[str, set[str]] = {}
        for rule in self._of(ParentToolRule):
            for child in rule.children:
                parents.setdefault(child, set()).add(rule.tool_name)
        for child, names in sorted(parents.items()):
            if last not in names:
                filters.append(
                    _Filter(
                        "parent_rule",
                        None,
                        frozenset({child}),
                        f"{{tool}} can only be called right after: {_names(names)}.",
                    )
                )
        for tool in sorted(self._names_of(MaxCountPerStepToolRule)):
            limit = self.max_count(tool)
            if limit is not None and state.count(tool) >= limit:
                filters.append(
                    _Filter(
                        "max_count",
                        None,
                        frozenset({tool}),
                        f"{{tool}} has reached its limit of {limit} call(s) this turn.",
                    )
                )
        missing = self.missing_required(state)
        blocked = frozenset(t for t in self._names_of(TerminalToolRule) if set(missing) - {t})
        if blocked:
            filters.append(
                _Filter(
                    "required_tools_missing",
                    None,
                    blocked,
                    f"{{tool}} would end the turn, but you must first call: {_names(missing)}.",
                )
            )
        return filters

    @staticmethod
    def _conditional_filter(rule: ConditionalToolRule, output: str | None) -> list[_Filter]:
        target = match_output(output, rule.child_output_mapping)
        shown = repr((output or "").strip()[:80])
        if target is not None:
            why = f"{rule.tool_name} returned {shown}, so the next tool must be {target}."
            return [_Filter("conditional_rule", frozenset({target}), frozenset(), why)]
        if rule.require_output_mapping:
            why = f"{rule.tool_name} returned {shown}, which matches none of: {_names(rule.child_output_mapping)}."
            return [_Filter("conditional_rule", frozenset(), frozenset(), why)]
        if rule.default_child is not None:
            why = f"{rule.tool_name} returned {shown}, so the next tool must be {rule.default_child}."
            return [_Filter("conditional_rule", frozenset({rule.default_child}), frozenset(), why)]
        return []

    def allowed_tools(self, state: SolverState) -> frozenset[str]:
        """The tools the model may call now; always a subset of ``available_tools``."""
        allowed = self.available_tools
        for f in self._filters(state):
            if f.keep is not None:
                allowed = allowed & f.keep
            allowed = allowed - f.drop
        return allowed

    def forced_tool(self, state: SolverState) -> str | None:
        """The only allowed tool, when there is exactly one (send it as ``tool_choice``)."""
        allowed = self.allowed_tools(state)
        return next(iter(allowed)) if len(allowed) == 1 else None

    def missing_required(self, state: SolverState) -> list[str]:
        """``required_before_exit`` tools the agent has and the turn has not called yet, in rule order."""
        seen: list[str] = []
        for rule in self._of(RequiredBeforeExitToolRule):
            name = rule.tool_name
            if name in self.available_tools and name not in state.history and name not in seen:
                seen.append(name)
        return seen

    def can_exit(self, state: SolverState) -> bool:
        """Whether the turn may end normally now (every required tool has been called)."""
        return not self.missing_required(state)

    def check_call(self, state: SolverState, tool_name: str) -> Violation | None:
        """``None`` when the call is allowed, else why not (for an error tool result)."""
        allowed = self.allowed_tools(state)
        if tool_name in allowed:
            return None
        missing = tuple(self.missing_required(state))
        offer = f"Tools you may call now: {_names(allowed)}." if allowed else "No tool may be called now."
        if tool_name not in self.available_tools:
            text = f"{tool_name} is not one of your tools."
            return Violation(tool_name, "unknown_tool", f"Tool rule violation: {text} {offer}", allowed, missing)
        for f in self._filters(state):
            excluded = tool_name in f.drop or (f.keep is not None and tool_name not in f.keep)
            if excluded:
                text = f.explain.replace("{tool}", tool_name)
                msg = f"Tool rule violation: {tool_name} cannot be called now. {text} {offer}"
                return Violation(tool_name, f.code, msg, allowed, missing)
        raise AssertionError(f"{tool_name} is excluded by no filter")  # pragma: no cover

    # -- state transitions --------------------------------------------------------------------

    def record(self, state: SolverState, tool_name: str, output: str | None) -> SolverState:
        """The state after ``tool_name`` ran and returned ``output`` (its return text)."""
        counts = dict(state.counts)
        counts[tool_name] = counts.get(tool_name, 0) + 1
        return SolverState((*state.history, tool_name), output, MappingProxyType(counts))

    def decide_before_call(self, state: SolverState, tool_name: str) -> Decision | None:
        """``approval_required`` when the (allowed) call must wait for a client, else ``None``."""
        if not self.needs_approval(tool_name):
            return None
        return Decision(
            "approval_required",
            "requires_approval",
            f"{tool_name} needs approval before it runs.",
            self.allowed_tools(state),
            tuple(self.missing_required(state)),
        )

    def decide_after_call(self, state: SolverState, tool_name: str) -> Decision:
        """Whether the turn goes on after ``tool_name`` ran; ``state`` must come from :meth:`record`."""
        if state.last_tool != tool_name:
            raise ValueError(f"decide_after_call({tool_name!r}) needs the state recorded after that call")
        allowed = self.allowed_tools(state)
        missing = tuple(self.missing_required(state))

        def decision(kind: DecisionKind, reason: DecisionReason, message: str = "") -> Decision:
            return Decision(kind, reason, message, allowed, missing)

        if self.is_terminal(tool_name) and not missing:
            return decision("end_turn", "terminal_tool")
        unmatched = self._conditional_unmatched(state)
        if unmatched is not None:
            keys = _names(unmatched.child_output_mapping)
            return decision("end_turn", "conditional_no_match", f"{tool_name}'s output matched none of: {keys}.")
        if not allowed:
            return decision("end_turn", "no_tool_allowed", f"After {tool_name} the tool rules allow no further tool.")
        if missing and self.is_terminal(tool_name):
            # Only reachable when check_call was skipped: the terminal call cannot end the turn.
            return decision("continue", "required_tools_missing", _missing_message(missing))
        if self.is_continue(tool_name):
            return decision("continue", "continue_tool")
        if any(r.tool_name == tool_name for r in self._of(ChildToolRule) + self._of(ConditionalToolRule)):
            return decision("continue", "child_rule", f"Continue: next call one of {_names(allowed)}.")
        if missing:
            return decision("continue", "required_tools_missing", _missing_message(missing))
        return decision("model_decides", "heartbeat")

    def prompt_guidance(self) -> str:
        return prompt_guidance(self.rules)


def _missing_message(missing: Iterable[str]) -> str:
    return f"You must call these tools before ending your response: {_names(missing)}."
