import re

import pytest

from host.errors import InvalidRequestError
from host.tools.rule_graph import GraphEdge, rule_graph, validate_rules
from host.tools.rule_models import parse_tool_rules

TOOLS = ["search", "fetch", "send_message", "log", "a", "b"]


def report(*raw: dict, tools=TOOLS):
    return validate_rules(parse_tool_rules(list(raw)), tools)


def codes(issues):
    return sorted(i.code for i in issues)


# -- errors ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("rule", "code", "words"),
    [
        (
            {"type": "exit_loop", "tool_name": "ghost"},
            "unknown_tool",
            ["tool_rules[0]", "exit_loop on ghost", "tool_name 'ghost'"],
        ),
        (
            {"type": "constrain_child_tools", "tool_name": "search", "children": ["fetch", "ghost"]},
            "unknown_tool",
            ["child 'ghost'"],
        ),
        ({"type": "parent_last_tool", "tool_name": "search", "children": ["ghost"]}, "unknown_tool", ["child 'ghost'"]),
        (
            {"type": "conditional", "tool_name": "search", "child_output_mapping": {"x": "ghost"}},
            "unknown_tool",
            ["output 'x' target 'ghost'"],
        ),
        (
            {
                "type": "conditional",
                "tool_name": "search",
                "child_output_mapping": {"x": "a"},
                "default_child": "ghost",
            },
            "unknown_tool",
            ["default_child 'ghost'"],
        ),
        (
            {"type": "conditional", "tool_name": "search", "child_output_mapping": {}},
            "empty_mapping",
            ["child_output_mapping is empty"],
        ),
        (
            {"type": "max_count_per_step", "tool_name": "search", "max_count_limit": 0},
            "invalid_max_count",
            ["at least 1, got 0"],
        ),
        ({"type": "required_before_exit", "tool_name": "ghost"}, "unknown_tool", ["ghost"]),
    ],
)
def test_errors_name_the_rule_and_the_fix(rule, code, words):
    r = report({"type": "exit_loop", "tool_name": "send_message"}, rule)
    assert codes(r.errors) == [code]
    (issue,) = r.errors
    assert issue.rule_index == 1
    for w in [w.replace("tool_rules[0]", "tool_rules[1]") for w in words]:
        assert w in issue.message
    with pytest.raises(InvalidRequestError) as caught:
        r.raise_for_errors()
    assert caught.value.status_code == 422 and "tool_rules[1]" in caught.value.detail


def test_a_sound_rule_set_has_no_errors_or_warnings():
    r = report(
        {"type": "run_first", "tool_name": "search"},
        {"type": "constrain_child_tools", "tool_name": "search", "children": ["fetch", "log"]},
        {"type": "exit_loop", "tool_name": "send_message"},
        {"type": "required_before_exit", "tool_name": "log"},
        tools=["search", "fetch", "log", "send_message"],
    )
    assert r.ok and r.errors == () and r.warnings == ()
    r.raise_for_errors()


# -- warnings ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("rules", "tools", "expected"),
    [
        (
            [
                {"type": "run_first", "tool_name": "search"},
                {"type": "constrain_child_tools", "tool_name": "search", "children": ["send_message"]},
                {"type": "exit_loop", "tool_name": "send_message"},
            ],
            ["search", "send_message", "log"],
            ["unreachable_tool"],
        ),
        (
            [
                {"type": "run_first", "tool_name": "a"},
                {"type": "constrain_child_tools", "tool_name": "a", "children": ["b"]},
                {"type": "constrain_child_tools", "tool_name": "b", "children": ["a"]},
                {"type": "exit_loop", "tool_name": "send_message"},
            ],
            ["a", "b", "send_message"],
            ["cycle_without_exit", "unreachable_tool"],
        ),
        (
            [
                {"type": "run_first", "tool_name": "a"},
                {"type": "constrain_child_tools", "tool_name": "a", "children": ["a", "send_message"]},
                {"type": "exit_loop", "tool_name": "send_message"},
                {"type": "required_before_exit", "tool_name": "log"},
            ],
            ["a", "send_message", "log"],
            ["required_unreachable"],
        ),
        (
            [
                {"type": "continue_loop", "tool_name": "a"},
                {"type": "constrain_child_tools", "tool_name": "a", "children": ["a"]},
            ],
            ["a", "b"],
            ["cycle_without_exit"],
        ),
        (
            [{"type": "run_first", "tool_name": "a"}, {"type": "run_first", "tool_name": "b"}],
            ["a", "b"],
            ["multiple_init_rules"],
        ),
        (
            [{"type": "exit_loop", "tool_name": "a"}, {"type": "continue_loop", "tool_name": "a"}],
            ["a"],
            ["terminal_and_continue"],
        ),
        ([{"type": "constrain_child_tools", "tool_name": "a", "children": []}], ["a", "b"], ["empty_children"]),
        (
            [
                {
                    "type": "conditional",
                    "tool_name": "a",
                    "child_output_mapping": {"1": "b"},
                    "default_child": "a",
                    "require_output_mapping": True,
                }
            ],
            ["a", "b"],
            ["default_child_ignored"],
        ),
        ([{"type": "parent_last_tool", "tool_name": "a", "children": ["b"]}], ["a", "b"], []),
        ([{"type": "run_first", "tool_name": "a"}, {"type": "run_first", "tool_name": "a"}], ["a", "b"], []),
    ],
)
def test_likely_mistakes_are_warnings_not_errors(rules, tools, expected):
    r = report(*rules, tools=tools)
    assert r.ok
    assert codes(r.warnings) == sorted(expected)


def test_cycle_with_a_way_out_is_fine():
    r = report(
        {"type": "constrain_child_tools", "tool_name": "a", "children": ["b"]},
        {"type": "constrain_child_tools", "tool_name": "b", "children": ["a", "send_message"]},
        {"type": "exit_loop", "tool_name": "send_message"},
        tools=["a", "b", "send_message"],
    )
    assert r.warnings == ()


def test_letta_recorded_rules_warn_about_tools_the_init_chain_never_reaches():
    rules = [
        {"tool_name": "roll_dice", "type": "run_first"},
        {"tool_name": "roll_dice", "type": "constrain_child_tools", "children": ["send_message"]},
        {"tool_name": "send_message", "type": "exit_loop"},
        {"tool_name": "core_memory_append", "type": "continue_loop"},
    ]
    r = report(*rules, tools=["roll_dice", "send_message", "core_memory_append"])
    assert r.ok
    assert [(w.code, w.tool_name) for w in r.warnings] == [("unreachable_tool", "core_memory_append")]


# -- the picture -------------------------------------------------------------------------------

RULES = [
    {"type": "run_first", "tool_name": "search"},
    {"type": "constrain_child_tools", "tool_name": "search", "children": ["fetch", "route"]},
    {
        "type": "conditional",
        "tool_name": "route",
        "child_output_mapping": {"yes": "send_message", 'say "hi"': "log"},
        "default_child": "fetch",
    },
    {"type": "parent_last_tool", "tool_name": "fetch", "children": ["delete"]},
    {"type": "exit_loop", "tool_name": "send_message"},
    {"type": "continue_loop", "tool_name": "log"},
    {"type": "required_before_exit", "tool_name": "log"},
    {"type": "requires_approval", "tool_name": "delete"},
    {"type": "max_count_per_step", "tool_name": "fetch", "max_count_limit": 3},
]
GRAPH_TOOLS = ["search", "fetch", "route", "send_message", "log", "delete", "plain"]


def test_graph_nodes_carry_their_kinds():
    g = rule_graph(parse_tool_rules(RULES), GRAPH_TOOLS)
    kinds = {n.id: (n.kind, n.kinds, n.max_count) for n in g.nodes}
    assert kinds == {
        "search": ("init", ("init",), None),
        "fetch": ("normal", ("normal",), 3),
        "route": ("normal", ("normal",), None),
        "send_message": ("terminal", ("terminal",), None),
        "log": ("required", ("required", "continue"), None),
        "delete": ("approval", ("approval",), None),
        "plain": ("normal", ("normal",), None),
    }
    assert all(n.attached for n in g.nodes)


def test_graph_edges_are_labelled_by_rule():
    g = rule_graph(parse_tool_rules(RULES), GRAPH_TOOLS)
    assert set(g.edges) == {
        GraphEdge("search", "fetch", "child", "child"),
        GraphEdge("search", "route", "child", "child"),
        GraphEdge("route", "send_message", "conditional", "yes"),
        GraphEdge("route", "log", "conditional", 'say "hi"'),
        GraphEdge("route", "fetch", "default", "default"),
        GraphEdge("fetch", "delete", "parent", "parent"),
    }
    assert g.as_dict()["edges"][0] == {"source": "search", "target": "fetch", "kind": "child", "label": "child"}


NODE = re.compile(
    r'^    (n\d+|start_node|end_node)(\(\[|\(\(\(|\{\{|>|\[/|\[|\(\()"[^"]*"(\]\)|\)\)\)|\}\}|\]|/\]|\)\))(:::\w+)?$'
)
EDGE = re.compile(r'^    (n\d+|start_node) (-->|-\.->)(\|"[^"]*"\|)? (n\d+|end_node)$')


def test_mermaid_is_a_well_formed_top_down_flowchart():
    g = rule_graph(parse_tool_rules(RULES), GRAPH_TOOLS)
    lines = g.mermaid.splitlines()
    assert lines[0] == "flowchart TD"
    defined, used = set(), set()
    for line in lines[1:]:
        if m := NODE.match(line):
            defined.add(m.group(1))
        elif m := EDGE.match(line):
            used |= {m.group(1), m.group(4)}
        else:
            assert re.match(r"^    (classDef \w+ [^;]+|class n\d+ \w+)$", line), line
    assert used <= defined
    assert len([line for line in lines if EDGE.match(line)]) == len(g.edges) + 1 + 1  # + start and end
    assert '"say #quot;hi#quot;"' in g.mermaid
    assert 'n1["fetch<br/>max 3/turn"]' in g.mermaid
    assert 'n0(["search"]):::init' in g.mermaid
    assert 'n3((("send_message"))):::terminal' in g.mermaid
    assert 'n1 -.->|"parent"| n5' in g.mermaid


def test_graph_shows_tools_named_by_rules_but_not_attached():
    g = rule_graph(parse_tool_rules([{"type": "exit_loop", "tool_name": "ghost"}]), ["a"])
    assert [(n.id, n.attached) for n in g.nodes] == [("a", True), ("ghost", False)]
    assert "class n1 missing" in g.mermaid


def test_graph_without_rules_is_just_the_tools():
    g = rule_graph([], ["a", "b"])
    assert g.edges == ()
    assert g.mermaid.splitlines()[:3] == ["flowchart TD", '    n0["a"]', '    n1["b"]']
