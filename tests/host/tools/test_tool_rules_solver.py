import pytest

from host.tools.rule_models import parse_tool_rules
from host.tools.rules import SolverState, ToolRulesSolver, match_output, prompt_guidance

TOOLS = frozenset({"search", "fetch", "summarize", "send_message", "log", "delete", "route", "a", "b", "c"})


def solver(*raw: dict, tools=TOOLS) -> ToolRulesSolver:
    return ToolRulesSolver(tuple(parse_tool_rules(list(raw))), frozenset(tools))


def play(s: ToolRulesSolver, calls):
    """Run calls (name or (name, output)); check each is allowed; return the state and last decision."""
    state = SolverState()
    decision = None
    for call in calls:
        name, output = call if isinstance(call, tuple) else (call, "ok")
        assert s.check_call(state, name) is None, s.check_call(state, name)
        state = s.record(state, name, output)
        decision = s.decide_after_call(state, name)
    return state, decision


INIT = {"type": "run_first", "tool_name": "search"}
TERMINAL = {"type": "exit_loop", "tool_name": "send_message"}
CHILD = {"type": "constrain_child_tools", "tool_name": "search", "children": ["fetch", "summarize"]}


# -- allowed sets, as a table ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("rules", "calls", "expected"),
    [
        ([], [], TOOLS),
        ([INIT], [], {"search"}),
        ([INIT], ["search"], TOOLS),
        ([INIT, CHILD], ["search"], {"fetch", "summarize"}),
        ([CHILD], ["fetch"], TOOLS),
        ([TERMINAL], [], TOOLS),
        ([{"type": "parent_last_tool", "tool_name": "search", "children": ["delete"]}], [], TOOLS - {"delete"}),
        ([{"type": "parent_last_tool", "tool_name": "search", "children": ["delete"]}], ["search"], TOOLS),
        (
            [{"type": "parent_last_tool", "tool_name": "search", "children": ["delete"]}],
            ["search", "fetch"],
            TOOLS - {"delete"},
        ),
        (
            [
                {"type": "parent_last_tool", "tool_name": "search", "children": ["delete"]},
                {"type": "parent_last_tool", "tool_name": "fetch", "children": ["delete"]},
            ],
            ["fetch"],
            TOOLS,
        ),
        ([{"type": "max_count_per_step", "tool_name": "fetch", "max_count_limit": 2}], ["fetch"], TOOLS),
        (
            [{"type": "max_count_per_step", "tool_name": "fetch", "max_count_limit": 2}],
            ["fetch", "fetch"],
            TOOLS - {"fetch"},
        ),
        (
            [
                {"type": "max_count_per_step", "tool_name": "fetch", "max_count_limit": 3},
                {"type": "max_count_per_step", "tool_name": "fetch", "max_count_limit": 1},
            ],
            ["fetch"],
            TOOLS - {"fetch"},
        ),
        ([TERMINAL, {"type": "required_before_exit", "tool_name": "log"}], [], TOOLS - {"send_message"}),
        ([TERMINAL, {"type": "required_before_exit", "tool_name": "log"}], ["log"], TOOLS),
        ([TERMINAL, {"type": "required_before_exit", "tool_name": "send_message"}], [], TOOLS),
        ([{"type": "requires_approval", "tool_name": "delete"}], [], TOOLS),
        ([{"type": "continue_loop", "tool_name": "search"}], ["search"], TOOLS),
        (
            [CHILD, {"type": "constrain_child_tools", "tool_name": "search", "children": ["summarize", "log"]}],
            ["search"],
            {"summarize"},
        ),
    ],
)
def test_allowed_tools_follow_the_rules(rules, calls, expected):
    s = solver(*rules)
    state, _ = play(s, calls)
    assert s.allowed_tools(state) == frozenset(expected)


def test_init_rules_name_only_available_tools():
    s = solver({"type": "run_first", "tool_name": "ghost"}, INIT)
    assert s.allowed_tools(SolverState()) == {"search"}


def test_several_init_rules_mean_one_of_them_first():
    s = solver(INIT, {"type": "run_first", "tool_name": "fetch"})
    assert s.allowed_tools(SolverState()) == {"search", "fetch"}
    assert s.forced_tool(SolverState()) is None


# -- the init -> child -> terminal chain --------------------------------------------------------


def test_init_child_terminal_chain_runs_to_the_end():
    s = solver(
        INIT, CHILD, {"type": "constrain_child_tools", "tool_name": "fetch", "children": ["send_message"]}, TERMINAL
    )
    state = SolverState()
    assert s.forced_tool(state) == "search"
    state = s.record(state, "search", "3 hits")
    d = s.decide_after_call(state, "search")
    assert (d.kind, d.reason) == ("continue", "child_rule")
    assert d.allowed_next == {"fetch", "summarize"}
    assert s.forced_tool(state) is None
    state = s.record(state, "fetch", "page")
    assert s.forced_tool(state) == "send_message"
    state = s.record(state, "send_message", "sent")
    d = s.decide_after_call(state, "send_message")
    assert (d.kind, d.reason, d.stop_reason) == ("end_turn", "terminal_tool", "end_turn")


@pytest.mark.parametrize(
    ("rules", "calls", "kind", "reason"),
    [
        ([], ["search"], "model_decides", "heartbeat"),
        ([TERMINAL], ["send_message"], "end_turn", "terminal_tool"),
        ([{"type": "continue_loop", "tool_name": "search"}], ["search"], "continue", "continue_tool"),
        ([CHILD], ["search"], "continue", "child_rule"),
        ([{"type": "required_before_exit", "tool_name": "log"}], ["search"], "continue", "required_tools_missing"),
        ([{"type": "required_before_exit", "tool_name": "log"}], ["search", "log"], "model_decides", "heartbeat"),
        (
            [TERMINAL, {"type": "continue_loop", "tool_name": "send_message"}],
            ["send_message"],
            "end_turn",
            "terminal_tool",
        ),
        ([{"type": "requires_approval", "tool_name": "delete"}], ["delete"], "model_decides", "heartbeat"),
    ],
)
def test_decision_after_a_call(rules, calls, kind, reason):
    _, d = play(solver(*rules), calls)
    assert (d.kind, d.reason) == (kind, reason)


def test_decide_after_call_needs_the_recorded_state():
    s = solver()
    with pytest.raises(ValueError, match="recorded"):
        s.decide_after_call(SolverState(), "search")


# -- conditional ------------------------------------------------------------------------------

COND = {
    "type": "conditional",
    "tool_name": "route",
    "child_output_mapping": {"yes": "a", "true": "b", "42": "c"},
    "default_child": "log",
}


@pytest.mark.parametrize(
    ("output", "expected"),
    [
        ("yes", {"a"}),
        ('"yes"', {"a"}),
        ("  yes \n", {"a"}),
        ('{"status": "OK", "message": "yes", "time": "now"}', {"a"}),
        ("true", {"b"}),
        ("True", {"b"}),
        ('"TRUE"', {"b"}),
        ("42", {"c"}),
        ("42.0", {"c"}),
        ('"42"', {"c"}),
        ("maybe", {"log"}),
        ("Yes", {"log"}),
        ("", {"log"}),
        ('{"answer": "yes"}', {"log"}),
        ("false", {"log"}),
    ],
)
def test_conditional_picks_the_next_tool_from_the_output(output, expected):
    s = solver(COND)
    state, d = play(s, [("route", output)])
    assert s.allowed_tools(state) == expected
    assert (d.kind, d.reason) == ("continue", "child_rule")


def test_conditional_without_default_allows_any_tool_on_no_match():
    s = solver({**COND, "default_child": None})
    state, _ = play(s, [("route", "nothing")])
    assert s.allowed_tools(state) == TOOLS


def test_conditional_with_required_mapping_ends_the_turn_on_no_match():
    s = solver({**COND, "default_child": None, "require_output_mapping": True})
    state, d = play(s, [("route", "nothing")])
    assert s.allowed_tools(state) == frozenset()
    assert (d.kind, d.reason, d.stop_reason) == ("end_turn", "conditional_no_match", "error")
    assert "yes" in d.message
    v = s.check_call(state, "a")
    assert v is not None and v.code == "conditional_rule" and "No tool may be called now" in v.message


def test_conditional_output_none_reads_as_empty_text():
    assert match_output(None, {"": "a"}) == "a"
    assert match_output(None, {"x": "a"}) is None


def test_exact_text_wins_over_numeric_equality():
    assert match_output("1.0", {"1": "int", "1.0": "float"}) == "float"
    assert match_output("1", {"1.0": "float"}) == "float"


def test_booleans_are_not_numbers():
    assert match_output("true", {"1": "a"}) is None
    assert match_output("1", {"true": "a"}) is None


# -- violations --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("rules", "calls", "tool", "code", "words"),
    [
        ([INIT], [], "fetch", "init_rule", ["first tool call", "search"]),
        ([CHILD], ["search"], "log", "child_rule", ["After search", "fetch, summarize"]),
        (
            [{"type": "parent_last_tool", "tool_name": "search", "children": ["delete"]}],
            [],
            "delete",
            "parent_rule",
            ["right after", "search"],
        ),
        (
            [{"type": "max_count_per_step", "tool_name": "fetch", "max_count_limit": 1}],
            ["fetch"],
            "fetch",
            "max_count",
            ["limit of 1"],
        ),
        ([COND], [("route", "yes")], "b", "conditional_rule", ["returned 'yes'", "must be a"]),
        ([], [], "nonexistent", "unknown_tool", ["not one of your tools"]),
    ],
)
def test_a_refused_call_says_why_and_what_is_allowed(rules, calls, tool, code, words):
    s = solver(*rules)
    state, _ = play(s, calls)
    v = s.check_call(state, tool)
    assert v is not None and v.code == code
    assert v.allowed == s.allowed_tools(state)
    for w in [*words, "Tools you may call now"]:
        assert w in v.message


# -- required before exit ----------------------------------------------------------------------


def test_terminal_call_is_rejected_while_required_tools_are_missing():
    s = solver(
        TERMINAL,
        {"type": "required_before_exit", "tool_name": "log"},
        {"type": "required_before_exit", "tool_name": "fetch"},
    )
    state, _ = play(s, ["search"])
    assert not s.can_exit(state)
    assert s.missing_required(state) == ["log", "fetch"]
    v = s.check_call(state, "send_message")
    assert v is not None and v.code == "required_tools_missing"
    assert "fetch, log" in v.message and v.missing_required == ("log", "fetch")
    state, d = play(s, ["search", "log", "fetch", "send_message"])
    assert s.can_exit(state) and d.kind == "end_turn"


def test_required_tool_that_is_terminal_may_end_the_turn_itself():
    s = solver(TERMINAL, {"type": "required_before_exit", "tool_name": "send_message"})
    _, d = play(s, ["send_message"])
    assert (d.kind, d.reason) == ("end_turn", "terminal_tool")


def test_required_tools_the_agent_lacks_are_ignored():
    s = solver({"type": "required_before_exit", "tool_name": "ghost"})
    assert s.can_exit(SolverState())


def test_terminal_call_that_skipped_check_call_does_not_end_the_turn():
    s = solver(TERMINAL, {"type": "required_before_exit", "tool_name": "log"})
    state = s.record(SolverState(), "send_message", "hi")
    d = s.decide_after_call(state, "send_message")
    assert (d.kind, d.reason) == ("continue", "required_tools_missing")
    assert "log" in d.message


# -- no tool allowed ---------------------------------------------------------------------------


def test_children_all_at_max_count_end_the_turn_with_no_tool_allowed():
    s = solver(
        {"type": "constrain_child_tools", "tool_name": "search", "children": ["fetch"]},
        {"type": "constrain_child_tools", "tool_name": "fetch", "children": ["search"]},
        {"type": "max_count_per_step", "tool_name": "fetch", "max_count_limit": 1},
    )
    state, d = play(s, ["search", "fetch", "search"])
    assert s.allowed_tools(state) == frozenset()
    assert s.forced_tool(state) is None
    assert (d.kind, d.reason, d.stop_reason) == ("end_turn", "no_tool_allowed", "tool_rule")
    v = s.check_call(state, "fetch")
    assert v is not None and v.code == "max_count" and "No tool may be called now" in v.message


def test_child_that_is_a_blocked_terminal_leaves_no_tool():
    s = solver(
        {"type": "constrain_child_tools", "tool_name": "search", "children": ["send_message"]},
        TERMINAL,
        {"type": "required_before_exit", "tool_name": "log"},
    )
    _, d = play(s, ["search"])
    assert (d.kind, d.reason) == ("end_turn", "no_tool_allowed")
    assert d.missing_required == ("log",)


# -- approval ---------------------------------------------------------------------------------


def test_approval_tools_pause_before_they_run():
    s = solver({"type": "requires_approval", "tool_name": "delete"})
    assert s.decide_before_call(SolverState(), "search") is None
    d = s.decide_before_call(SolverState(), "delete")
    assert d is not None
    assert (d.kind, d.reason, d.stop_reason) == ("approval_required", "requires_approval", "requires_approval")


# -- prompt guidance ---------------------------------------------------------------------------


def test_prompt_guidance_lists_each_rule_in_plain_words():
    rules = parse_tool_rules(
        [
            INIT,
            {"type": "run_first", "tool_name": "fetch"},
            CHILD,
            TERMINAL,
            {"type": "continue_loop", "tool_name": "log"},
            {"type": "parent_last_tool", "tool_name": "search", "children": ["delete"]},
            COND,
            {"type": "max_count_per_step", "tool_name": "fetch", "max_count_limit": 2},
            {"type": "required_before_exit", "tool_name": "log"},
            {"type": "requires_approval", "tool_name": "delete"},
            TERMINAL,
        ]
    )
    text = prompt_guidance(rules)
    lines = text.splitlines()
    assert lines[0].startswith("Tool rules")
    assert lines[1] == "- Your first tool call in every response must be one of: search, fetch."
    assert "- After search, your next tool call must be one of: fetch, summarize." in lines
    assert lines.count("- Calling send_message ends your response.") == 1
    assert "- Call fetch at most 2 time(s) per response." in lines
    assert "- You must call log before ending your response." in lines
    assert "'yes' -> a" in text and "otherwise log" in text
    assert "delete may only be called right after search." in text
    assert "approval" in text


def test_prompt_guidance_renders_custom_templates_and_falls_back_on_broken_ones():
    rules = parse_tool_rules(
        [
            {
                "type": "constrain_child_tools",
                "tool_name": "search",
                "children": ["a", "b"],
                "prompt_template": "<r>{{ tool_name }} -> {{ children | join('|') }}</r>",
            },
            {"type": "exit_loop", "tool_name": "send_message", "prompt_template": "{{ broken"},
        ]
    )
    assert prompt_guidance(rules).splitlines()[1:] == [
        "- <r>search -> a|b</r>",
        "- Calling send_message ends your response.",
    ]
    assert prompt_guidance([]) == ""
