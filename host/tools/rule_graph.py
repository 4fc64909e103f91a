"""Check an agent's tool rules against its tools, and draw them. No I/O.

:func:`validate_rules` returns errors (the request is refused with 422, each naming its rule as
``tool_rules[i]``) and warnings (legal, probably a mistake; returned to the client, not refused).

Errors: a rule names a tool the agent does not have (``tool_name``, ``children``, ``default_child``
or a ``child_output_mapping`` target); a ``conditional`` rule with an empty mapping;
``max_count_limit < 1``.

Several ``run_first`` rules for different tools are *not* an error: Letta accepts them and reads
them as "the first call must be one of these" (it refuses them only for models without structured
output, which is a property of the model, not of the rules). We offer exactly those tools on the
first step, so the meaning is well defined; a ``multiple_init_rules`` warning is given.

Warnings, over the static transition graph (what may follow each tool, ignoring counts and outputs):
unreachable tools from the start, cycles of tools from which no exit is reachable (an exit is a
terminal tool, or a tool with no child/conditional/continue rule after which the model may stop),
required tools that cannot be reached, a child rule with no children, a tool that is both
``exit_loop`` and ``continue_loop`` (terminal wins), a ``default_child`` made useless by
``require_output_mapping``, and several ``run_first`` tools.

:func:`rule_graph` gives nodes, labelled edges and Mermaid ``flowchart TD`` text for
``GET /v1/agents/{id}/tool-rules/graph``.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from typing import Any, Literal

from host.errors import InvalidRequestError
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

__all__ = ["GraphEdge", "GraphNode", "RuleGraph", "RuleIssue", "ValidationReport", "rule_graph", "validate_rules"]

NodeKind = Literal["init", "terminal", "required", "approval", "continue", "normal"]
EdgeKind = Literal["child", "conditional", "default", "parent"]


@dataclass(frozen=True, slots=True)
class RuleIssue:
    code: str
    message: str
    rule_index: int | None = None
    tool_name: str | None = None


@dataclass(frozen=True, slots=True)
class ValidationReport:
    errors: tuple[RuleIssue, ...] = ()
    warnings: tuple[RuleIssue, ...] = ()

    @property
    def ok(self) -> bool:
        return not self.errors

    def raise_for_errors(self) -> None:
        """Raise :class:`InvalidRequestError` (422) naming every bad rule."""
        if self.errors:
            raise InvalidRequestError("Invalid tool rules: " + " ".join(e.message for e in self.errors))


@dataclass(frozen=True, slots=True)
class GraphNode:
    id: str
    kind: NodeKind
    kinds: tuple[NodeKind, ...]
    max_count: int | None = None
    attached: bool = True  # False: named by a rule but not one of the agent's tools


@dataclass(frozen=True, slots=True)
class GraphEdge:
    source: str
    target: str
    kind: EdgeKind
    label: str


@dataclass(frozen=True, slots=True)
class RuleGraph:
    nodes: tuple[GraphNode, ...]
    edges: tuple[GraphEdge, ...]
    mermaid: str

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def _where(index: int, rule: ToolRule) -> str:
    return f"tool_rules[{index}] ({rule.type} on {rule.tool_name})"


def _targets(rule: ToolRule) -> list[tuple[str, str]]:
    """(role, tool) for every tool a rule names."""
    named = [("tool_name", rule.tool_name)]
    if isinstance(rule, (ChildToolRule, ParentToolRule)):
        named += [("child", c) for c in rule.children]
    if isinstance(rule, ConditionalToolRule):
        named += [(f"output {k!r} target", v) for k, v in rule.child_output_mapping.items()]
        if rule.default_child is not None:
            named.append(("default_child", rule.default_child))
    return named


def validate_rules(rules: Sequence[ToolRule], tool_names: Iterable[str]) -> ValidationReport:
    tools = frozenset(tool_names)
    errors: list[RuleIssue] = []
    warnings: list[RuleIssue] = []
    for i, rule in enumerate(rules):
        where = _where(i, rule)
        for role, name in _targets(rule):
            if name not in tools:
                msg = f"{where}: {role} '{name}' is not one of the agent's tools; attach it or remove it from the rule."
                errors.append(RuleIssue("unknown_tool", msg, i, name))
        if isinstance(rule, ConditionalToolRule):
            if not rule.child_output_mapping:
                msg = f"{where}: child_output_mapping is empty; give at least one output value -> tool."
                errors.append(RuleIssue("empty_mapping", msg, i, rule.tool_name))
            if rule.require_output_mapping and rule.default_child is not None:
                msg = f"{where}: default_child is never used because require_output_mapping is true."
                warnings.append(RuleIssue("default_child_ignored", msg, i, rule.tool_name))
        if isinstance(rule, MaxCountPerStepToolRule) and rule.max_count_limit < 1:
            msg = f"{where}: max_count_limit must be at least 1, got {rule.max_count_limit}."
            errors.append(RuleIssue("invalid_max_count", msg, i, rule.tool_name))
        if isinstance(rule, ChildToolRule) and not rule.children:
            msg = f"{where}: children is empty, so no tool may follow {rule.tool_name} and the turn stops there."
            warnings.append(RuleIssue("empty_children", msg, i, rule.tool_name))
    warnings += _shape_warnings(rules, tools)
    return ValidationReport(tuple(errors), tuple(warnings))


# -- the static transition graph ---------------------------------------------------------------


def _successors(rules: Sequence[ToolRule], tools: frozenset[str]) -> dict[str, frozenset[str]]:
    terminal = {r.tool_name for r in rules if isinstance(r, TerminalToolRule)}
    parents: dict[str, set[str]] = {}
    for r in rules:
        if isinstance(r, ParentToolRule):
            for c in r.children:
                parents.setdefault(c, set()).add(r.tool_name)
    succ: dict[str, frozenset[str]] = {}
    for t in tools:
        if t in terminal:
            succ[t] = frozenset()
            continue
        nxt = set(tools)
        for r in rules:
            if r.tool_name != t:
                continue
            if isinstance(r, ChildToolRule):
                nxt &= set(r.children)
            elif isinstance(r, ConditionalToolRule):
                outs = set(r.child_output_mapping.values())
                if r.default_child is not None:
                    outs.add(r.default_child)
                elif not r.require_output_mapping:
                    outs |= tools
                nxt &= outs
        nxt -= {c for c, ps in parents.items() if t not in ps}
        succ[t] = frozenset(nxt)
    return succ


def _start(rules: Sequence[ToolRule], tools: frozenset[str]) -> frozenset[str]:
    init = {r.tool_name for r in rules if isinstance(r, InitToolRule)} & tools
    if init:
        return frozenset(init)
    locked = {c for r in rules if isinstance(r, ParentToolRule) for c in r.children}
    return tools - locked


def _reach(succ: dict[str, frozenset[str]], start: Iterable[str]) -> set[str]:
    seen = set(start)
    todo = list(seen)
    while todo:
        for n in succ.get(todo.pop(), ()):
            if n not in seen:
                seen.add(n)
                todo.append(n)
    return seen


def _exits(rules: Sequence[ToolRule], tools: frozenset[str]) -> set[str]:
    terminal = {r.tool_name for r in rules if isinstance(r, TerminalToolRule)}
    forcing = {r.tool_name for r in rules if isinstance(r, (ChildToolRule, ConditionalToolRule, ContinueToolRule))}
    return {t for t in tools if t in terminal or t not in forcing}


def _shape_warnings(rules: Sequence[ToolRule], tools: frozenset[str]) -> list[RuleIssue]:
    out: list[RuleIssue] = []
    init = list(dict.fromkeys(r.tool_name for r in rules if isinstance(r, InitToolRule)))
    if len(init) > 1:
        msg = f"several run_first rules ({', '.join(init)}): the first call may be any one of them, not all in turn."
        out.append(RuleIssue("multiple_init_rules", msg, None, None))
    terminal = {r.tool_name for r in rules if isinstance(r, TerminalToolRule)}
    for t in sorted(terminal & {r.tool_name for r in rules if isinstance(r, ContinueToolRule)}):
        msg = f"{t} is both exit_loop and continue_loop; calling it ends the turn."
        out.append(RuleIssue("terminal_and_continue", msg, None, t))
    succ = _successors(rules, tools)
    reachable = _reach(succ, _start(rules, tools))
    required = {r.tool_name for r in rules if isinstance(r, RequiredBeforeExitToolRule)} & tools
    for t in sorted(tools - reachable):
        if t in required:
            msg = f"{t} is required before exit but no sequence of allowed calls reaches it; turns cannot end normally."
            out.append(RuleIssue("required_unreachable", msg, None, t))
        else:
            msg = f"{t} can never be called: no sequence of allowed calls from the start of a turn reaches it."
            out.append(RuleIssue("unreachable_tool", msg, None, t))
    exits = _exits(rules, tools)
    reach_from = {t: _reach(succ, [t]) for t in tools}
    reported: set[str] = set()
    for t in sorted(tools):
        if t in reported:
            continue
        cycle = {u for u in reach_from[t] if t in reach_from[u] and (u != t or t in succ[t])}
        if not cycle or reach_from[t] & exits:
            continue
        reported |= cycle
        msg = f"{', '.join(sorted(cycle))} form a loop from which no tool that can end the turn is reachable."
        out.append(RuleIssue("cycle_without_exit", msg, None, t))
    return out


# -- the picture ------------------------------------------------------------------------------

_KIND_ORDER: tuple[NodeKind, ...] = ("init", "terminal", "required", "approval", "continue")
_SHAPES: dict[NodeKind, tuple[str, str]] = {
    "init": ("([", "])"),
    "terminal": ("(((", ")))"),
    "required": ("{{", "}}"),
    "approval": (">", "]"),
    "continue": ("[/", "/]"),
    "normal": ("[", "]"),
}
_CLASS_DEFS = (
    "classDef init fill:#d9f2d9,stroke:#2e7d32",
    "classDef terminal fill:#f8d7da,stroke:#c62828",
    "classDef required fill:#fff3cd,stroke:#b8860b",
    "classDef approval fill:#e2d9f3,stroke:#5e35b1",
    "classDef continue fill:#d6eaf8,stroke:#1565c0",
    "classDef missing stroke-dasharray:4 3,stroke:#999",
)
_RULE_KINDS: dict[type, NodeKind] = {
    InitToolRule: "init",
    TerminalToolRule: "terminal",
    RequiredBeforeExitToolRule: "required",
    RequiresApprovalToolRule: "approval",
    ContinueToolRule: "continue",
}


def _text(raw: str) -> str:
    return '"' + raw.replace('"', "#quot;").replace("|", "#124;") + '"'


def rule_graph(rules: Sequence[ToolRule], tool_names: Iterable[str]) -> RuleGraph:
    tools = list(dict.fromkeys(tool_names))
    named = list(dict.fromkeys(name for r in rules for _, name in _targets(r)))
    order = tools + [n for n in named if n not in tools]
    kinds: dict[str, set[NodeKind]] = {n: set() for n in order}
    limits: dict[str, int] = {}
    edges: list[GraphEdge] = []
    for r in rules:
        kind = _RULE_KINDS.get(type(r))
        if kind is not None:
            kinds[r.tool_name].add(kind)
        if isinstance(r, MaxCountPerStepToolRule):
            limits[r.tool_name] = min(r.max_count_limit, limits.get(r.tool_name, r.max_count_limit))
        elif isinstance(r, ChildToolRule):
            edges += [GraphEdge(r.tool_name, c, "child", "child") for c in r.children]
        elif isinstance(r, ParentToolRule):
            edges += [GraphEdge(r.tool_name, c, "parent", "parent") for c in r.children]
        elif isinstance(r, ConditionalToolRule):
            edges += [GraphEdge(r.tool_name, c, "conditional", k) for k, c in r.child_output_mapping.items()]
            if r.default_child is not None:
                edges.append(GraphEdge(r.tool_name, r.default_child, "default", "default"))
    nodes = []
    for n in order:
        ks: tuple[NodeKind, ...] = tuple(k for k in _KIND_ORDER if k in kinds[n])
        nodes.append(GraphNode(n, ks[0] if ks else "normal", ks or ("normal",), limits.get(n), n in tools))
    unique_edges = tuple(dict.fromkeys(edges))
    return RuleGraph(tuple(nodes), unique_edges, _mermaid(nodes, unique_edges))


def _mermaid(nodes: list[GraphNode], edges: tuple[GraphEdge, ...]) -> str:
    ids = {node.id: f"n{i}" for i, node in enumerate(nodes)}
    lines = ["flowchart TD"]
    for node in nodes:
        label = node.id + (f"<br/>max {node.max_count}/turn" if node.max_count is not None else "")
        left, right = _SHAPES[node.kind]
        css = "" if node.kind == "normal" else f":::{node.kind}"
        lines.append(f"    {ids[node.id]}{left}{_text(label)}{right}{css}")
        if not node.attached:
            lines.append(f"    class {ids[node.id]} missing")
    inits = [n for n in nodes if "init" in n.kinds]
    terminals = [n for n in nodes if "terminal" in n.kinds]
    if inits:
        lines.append('    start_node(("start"))')
        lines += [f"    start_node --> {ids[n.id]}" for n in inits]
    if terminals:
        lines.append('    end_node(("end of turn"))')
        lines += [f"    {ids[n.id]} --> end_node" for n in terminals]
    for e in edges:
        arrow = "-.->" if e.kind == "parent" else "-->"
        lines.append(f"    {ids[e.source]} {arrow}|{_text(e.label)}| {ids[e.target]}")
    lines += [f"    {d}" for d in _CLASS_DEFS]
    return "\n".join(lines) + "\n"
