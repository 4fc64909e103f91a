"""Property tests: random rule sets, random turns that only ever call allowed tools."""

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from host.tools.rule_graph import rule_graph, validate_rules
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
)
from host.tools.rules import SolverState, ToolRulesSolver

POOL = ["t0", "t1", "t2", "t3", "t4", "t5"]
OUTPUTS = ["yes", "no", "1", "true", '{"status": "OK", "message": "yes"}', ""]

names = st.sampled_from(POOL)
kids = st.lists(names, min_size=1, max_size=3, unique=True)
rule = st.one_of(
    st.builds(InitToolRule, tool_name=names),
    st.builds(TerminalToolRule, tool_name=names),
    st.builds(ContinueToolRule, tool_name=names),
    st.builds(ChildToolRule, tool_name=names, children=kids),
    st.builds(ParentToolRule, tool_name=names, children=kids),
    st.builds(
        ConditionalToolRule,
        tool_name=names,
        child_output_mapping=st.dictionaries(
            st.sampled_from(["yes", "no", "1", "true"]), names, min_size=1, max_size=3
        ),
        default_child=st.none() | names,
        require_output_mapping=st.booleans(),
    ),
    st.builds(MaxCountPerStepToolRule, tool_name=names, max_count_limit=st.integers(1, 3)),
    st.builds(RequiredBeforeExitToolRule, tool_name=names),
    st.builds(RequiresApprovalToolRule, tool_name=names),
)
rule_sets = st.lists(rule, max_size=8)
agent_tools = st.frozensets(names, min_size=1, max_size=6)

SETTINGS = settings(
    max_examples=300, deadline=None, derandomize=True, database=None, suppress_health_check=[HealthCheck.too_slow]
)


@SETTINGS
@given(rules=rule_sets, tools=agent_tools, data=st.data())
def test_random_turns_obey_every_rule(rules, tools, data):
    solver = ToolRulesSolver(tuple(rules), tools)
    limits = {r.tool_name: solver.max_count(r.tool_name) for r in rules if isinstance(r, MaxCountPerStepToolRule)}
    state = SolverState()
    for _ in range(15):
        allowed = solver.allowed_tools(state)
        # Offered tools are always the agent's tools.
        assert allowed <= tools
        # check_call agrees with the allowed set, and every refusal names the allowed set.
        for name in POOL:
            violation = solver.check_call(state, name)
            assert (violation is None) == (name in allowed)
            if violation is not None:
                assert violation.allowed == allowed
                assert "Tool rule violation" in violation.message
        # A terminal call that would leave required tools uncalled is refused, naming them.
        missing = solver.missing_required(state)
        for name in tools:
            if solver.is_terminal(name) and set(missing) - {name}:
                violation = solver.check_call(state, name)
                assert violation is not None
                if violation.code == "required_tools_missing":
                    assert all(m in violation.message for m in missing)
        if not allowed:
            break  # only possible at the start of a turn here (later, decide_after_call ends the turn)
        name = data.draw(st.sampled_from(sorted(allowed)), label="call")
        approval = solver.decide_before_call(state, name)
        assert (approval is not None) == solver.needs_approval(name)
        state = solver.record(state, name, data.draw(st.sampled_from(OUTPUTS), label="output"))
        # No tool ever runs past its max count.
        for tool, limit in limits.items():
            assert state.count(tool) <= limit
        decision = solver.decide_after_call(state, name)
        assert decision.allowed_next == solver.allowed_tools(state)
        if solver.is_terminal(name):
            # A terminal call that was allowed always ends the turn, normally.
            assert (decision.kind, decision.reason) == ("end_turn", "terminal_tool")
            assert solver.can_exit(state)
            break
        if decision.kind == "end_turn":
            assert decision.reason in ("no_tool_allowed", "conditional_no_match")
            assert decision.stop_reason in ("tool_rule", "error")
            assert not decision.allowed_next
            break
        if decision.kind == "model_decides":
            # The model may stop here: that is a normal exit, so required tools must be done.
            assert solver.can_exit(state)
            if not data.draw(st.booleans(), label="request_heartbeat"):
                break
        else:
            assert decision.kind == "continue"
            assert decision.allowed_next


@SETTINGS
@given(rules=rule_sets, tools=agent_tools)
def test_validation_and_graph_hold_for_any_rule_set(rules, tools):
    report = validate_rules(rules, tools)
    named = set()
    for r in rules:
        named.add(r.tool_name)
        named.update(getattr(r, "children", ()))
        if isinstance(r, ConditionalToolRule):
            named.update(r.child_output_mapping.values())
            named.update([r.default_child] if r.default_child else [])
    assert any(e.code == "unknown_tool" for e in report.errors) == bool(named - tools)
    assert all(e.rule_index is not None and f"tool_rules[{e.rule_index}]" in e.message for e in report.errors)
    graph = rule_graph(rules, sorted(tools))
    ids = [n.id for n in graph.nodes]
    assert len(ids) == len(set(ids)) and set(ids) == tools | named
    assert {e.source for e in graph.edges} | {e.target for e in graph.edges} <= set(ids)
    assert graph.mermaid.startswith("flowchart TD\n")
    assert graph.mermaid.count("-->|") + graph.mermaid.count("-.->|") == len(graph.edges)


@SETTINGS
@given(rules=rule_sets, tools=agent_tools)
def test_reachability_warnings_match_random_walks(rules, tools):
    """A tool the validator calls unreachable is never offered in a turn that starts fresh."""
    report = validate_rules(rules, tools)
    unreachable = {w.tool_name for w in report.warnings if w.code in ("unreachable_tool", "required_unreachable")}
    solver = ToolRulesSolver(tuple(rules), tools)
    frontier = [SolverState()]
    seen_states = 0
    while frontier and seen_states < 200:
        state = frontier.pop()
        seen_states += 1
        allowed = solver.allowed_tools(state)
        assert not (allowed & unreachable)
        if len(state.history) >= 4:
            continue
        for name in sorted(allowed):
            for output in ("yes", "1", "zzz"):
                nxt = solver.record(state, name, output)
                if solver.decide_after_call(nxt, name).kind != "end_turn":
                    frontier.append(nxt)
