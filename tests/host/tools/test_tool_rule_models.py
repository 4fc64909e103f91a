import json
from pathlib import Path

import pytest
from pydantic import ValidationError

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
    default_rules_for,
    dump_tool_rules,
    parse_tool_rules,
    with_letta_templates,
)

REFERENCE = Path("/work/shared/reference/letta-0.8.17")


@pytest.mark.parametrize(
    ("raw", "cls"),
    [
        ({"type": "run_first", "tool_name": "t"}, InitToolRule),
        ({"type": "exit_loop", "tool_name": "t"}, TerminalToolRule),
        ({"type": "continue_loop", "tool_name": "t"}, ContinueToolRule),
        ({"type": "constrain_child_tools", "tool_name": "t", "children": ["a"]}, ChildToolRule),
        ({"type": "parent_last_tool", "tool_name": "t", "children": ["a"]}, ParentToolRule),
        ({"type": "conditional", "tool_name": "t", "child_output_mapping": {"x": "a"}}, ConditionalToolRule),
        ({"type": "max_count_per_step", "tool_name": "t", "max_count_limit": 2}, MaxCountPerStepToolRule),
        ({"type": "required_before_exit", "tool_name": "t"}, RequiredBeforeExitToolRule),
        ({"type": "requires_approval", "tool_name": "t"}, RequiresApprovalToolRule),
    ],
)
def test_each_rule_type_parses_to_its_model_and_round_trips(raw, cls):
    (rule,) = parse_tool_rules([raw])
    assert isinstance(rule, cls)
    assert rule.prompt_template is None
    dumped = dump_tool_rules([rule])[0]
    assert {k: v for k, v in dumped.items() if k in raw} == raw
    assert parse_tool_rules([dumped]) == [rule]


@pytest.mark.parametrize(
    "raw",
    [
        {"type": "run_first", "tool_name": "t", "children": ["a"]},  # unknown field
        {"type": "nope", "tool_name": "t"},  # unknown type
        {"tool_name": "t"},  # no discriminator
        {"type": "constrain_child_tools", "tool_name": "t"},  # missing children
        {"type": "conditional", "tool_name": "t"},  # missing mapping
        {"type": "max_count_per_step", "tool_name": "t"},  # missing limit
    ],
)
def test_malformed_rules_are_refused(raw):
    with pytest.raises(ValidationError):
        parse_tool_rules([raw])


def test_conditional_defaults_match_letta():
    (rule,) = parse_tool_rules([{"type": "conditional", "tool_name": "t", "child_output_mapping": {"1": "a"}}])
    assert rule.default_child is None
    assert rule.require_output_mapping is False


def test_the_recorded_letta_response_rules_parse():
    body = json.loads((REFERENCE / "responses/agent_create_with_tool_rules__01_POST_v1_agents.json").read_text())
    for source in (body["request"]["body"]["tool_rules"], body["response"]["body"]["tool_rules"]):
        rules = parse_tool_rules(source)
        assert [r.type for r in rules] == [r["type"] for r in source]
        assert [r.tool_name for r in rules] == [r["tool_name"] for r in source]


def test_letta_templates_fill_only_missing_templates_as_letta_echoes_them():
    body = json.loads((REFERENCE / "responses/agent_create_with_tool_rules__01_POST_v1_agents.json").read_text())
    sent = parse_tool_rules(body["request"]["body"]["tool_rules"])
    echoed = body["response"]["body"]["tool_rules"][: len(sent)]
    assert dump_tool_rules(with_letta_templates(r) for r in sent) == [
        {
            "tool_name": e["tool_name"],
            "prompt_template": e["prompt_template"],
            "type": e["type"],
            **({"children": e["children"]} if "children" in e else {}),
        }
        for e in echoed
    ]
    custom = InitToolRule(tool_name="x", prompt_template="mine")
    assert with_letta_templates(custom) is custom


def test_default_rules_cover_only_present_base_tools():
    rules = default_rules_for(
        ["roll_dice", "send_message", "core_memory_append", "archival_memory_search", "send_message"]
    )
    assert rules == [
        TerminalToolRule(tool_name="send_message"),
        ContinueToolRule(tool_name="core_memory_append"),
        ContinueToolRule(tool_name="archival_memory_search"),
    ]
    assert default_rules_for(["roll_dice"]) == []


def test_rules_are_immutable_values():
    rule = ChildToolRule(tool_name="a", children=["b"])
    with pytest.raises(ValidationError):
        rule.tool_name = "z"
    assert rule == ChildToolRule(tool_name="a", children=("b",))
