"""Letta's tool rules as JSON: pydantic models, parsing and Letta's default rules.

The wire format is Letta's (``tool_rules`` on ``POST /v1/agents``): a list of objects discriminated
by ``type``::

    run_first             InitToolRule               tool_name
    exit_loop             TerminalToolRule           tool_name
    continue_loop         ContinueToolRule           tool_name
    constrain_child_tools ChildToolRule              tool_name, children
    parent_last_tool      ParentToolRule             tool_name, children
    conditional           ConditionalToolRule        tool_name, child_output_mapping,
                                                     default_child, require_output_mapping
    max_count_per_step    MaxCountPerStepToolRule    tool_name, max_count_limit
    required_before_exit  RequiredBeforeExitToolRule tool_name
    requires_approval     RequiresApprovalToolRule   tool_name

Every rule also takes ``prompt_template`` (optional, default ``None``). Unknown fields are rejected,
as Letta's schemas say (``additionalProperties: false``). Models are frozen: rules are values.

Letta echoes rules back with its default ``prompt_template`` filled in (every type except
``run_first``); :func:`with_letta_templates` reproduces that for responses. Semantic checks that
need the agent's tool list (unknown tools, empty mappings, ``max_count_limit < 1``) live in
:mod:`host.tools.rule_graph`, so that the 422 names the rule.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter

__all__ = [
    "BASE_CONTINUE_TOOLS",
    "LETTA_DEFAULT_TEMPLATES",
    "TERMINAL_DEFAULT_TOOL",
    "ChildToolRule",
    "ConditionalToolRule",
    "ContinueToolRule",
    "InitToolRule",
    "MaxCountPerStepToolRule",
    "ParentToolRule",
    "RequiredBeforeExitToolRule",
    "RequiresApprovalToolRule",
    "TerminalToolRule",
    "ToolRule",
    "default_rules_for",
    "dump_tool_rules",
    "parse_tool_rules",
    "with_letta_templates",
]


class _RuleBase(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    tool_name: str = Field(description="The name of the tool. Must be one of the agent's tools.")
    prompt_template: str | None = Field(
        default=None,
        description="Optional Jinja2 template for the system-prompt line about this rule.",
    )


class InitToolRule(_RuleBase):
    """The first tool call of a turn must be this tool (or one of the other ``run_first`` tools)."""

    type: Literal["run_first"] = "run_first"


class TerminalToolRule(_RuleBase):
    """Calling this tool ends the turn."""

    type: Literal["exit_loop"] = "exit_loop"


class ContinueToolRule(_RuleBase):
    """Calling this tool forces another step, whatever the model asked for."""

    type: Literal["continue_loop"] = "continue_loop"


class ChildToolRule(_RuleBase):
    """Right after ``tool_name``, only ``children`` may be called."""

    type: Literal["constrain_child_tools"] = "constrain_child_tools"
    children: tuple[str, ...] = Field(description="The tools allowed right after tool_name.")


class ParentToolRule(_RuleBase):
    """``children`` may only be called right after ``tool_name``."""

    type: Literal["parent_last_tool"] = "parent_last_tool"
    children: tuple[str, ...] = Field(description="The tools unlocked by calling tool_name.")


class ConditionalToolRule(_RuleBase):
    """Right after ``tool_name``, its output picks the next tool (see ``rules.match_output``)."""

    type: Literal["conditional"] = "conditional"
    default_child: str | None = Field(
        default=None, description="The next tool when no mapping key matches. None: any tool."
    )
    child_output_mapping: dict[str, str] = Field(description="Output value -> next tool.")
    require_output_mapping: bool = Field(
        default=False, description="An output matching no key is an error (the turn ends)."
    )


class MaxCountPerStepToolRule(_RuleBase):
    """The tool may be called at most ``max_count_limit`` times per turn."""

    type: Literal["max_count_per_step"] = "max_count_per_step"
    max_count_limit: int = Field(description="How many calls per turn (at least 1).")


class RequiredBeforeExitToolRule(_RuleBase):
    """The tool must have been called before the turn may end normally."""

    type: Literal["required_before_exit"] = "required_before_exit"


class RequiresApprovalToolRule(_RuleBase):
    """Calling the tool pauses the turn until a client approves the call."""

    type: Literal["requires_approval"] = "requires_approval"


ToolRule = Annotated[
    InitToolRule | TerminalToolRule | ContinueToolRule | ChildToolRule | ParentToolRule | ConditionalToolRule | MaxCountPerStepToolRule | RequiredBeforeExitToolRule | RequiresApprovalToolRule,
    Field(discriminator="type"),
]

_RULES_ADAPTER: TypeAdapter[list[ToolRule]] = TypeAdapter(list[ToolRule])

#: Letta 0.8.17's default ``prompt_template`` per rule type (from its OpenAPI schemas).
LETTA_DEFAULT_TEMPLATES: Mapping[str, str | None] = {
    "run_first": None,
    "exit_loop": "<tool_rule>\n{{ tool_name }} ends your response (yields control) when called\n</tool_rule>",
    "continue_loop": "<tool_rule>\n{{ tool_name }} requires continuing your response when called\n</tool_rule>",
    "constrain_child_tools": (
        "<tool_rule>\nAfter using {{ tool_name }}, you must use one of these tools: "
        "{{ children | join(', ') }}\n</tool_rule>"
    ),
    "parent_last_tool": "<tool_rule>\n{{ children | join(', ') }} can only be used after {{ tool_name }}\n</tool_rule>",
    "conditional": (
        "<tool_rule>\n{{ tool_name }} will determine which tool to use next based on its output\n</tool_rule>"
    ),
    "max_count_per_step": "<tool_rule>\n{{ tool_name }}: max {{ max_count_limit }} use(s) per response\n</tool_rule>",
    "required_before_exit": "<tool_rule>{{ tool_name }} must be called before ending the conversation</tool_rule>",
    "requires_approval": None,
}

#: Letta's defaults: ``send_message`` ends the turn; the base memory tools continue it.
TERMINAL_DEFAULT_TOOL = "send_message"
BASE_CONTINUE_TOOLS: tuple[str, ...] = (
    "core_memory_append",
    "core_memory_replace",
    "memory_replace",
    "memory_insert",
    "memory_rethink",
    "conversation_search",
    "archival_memory_insert",
    "archival_memory_search",
)


def parse_tool_rules(raw: Sequence[Mapping[str, Any]]) -> list[ToolRule]:
    """Parse Letta's JSON rules. Raises ``pydantic.ValidationError`` on a malformed rule."""
    return _RULES_ADAPTER.validate_python(list(raw))


def dump_tool_rules(rules: Iterable[ToolRule]) -> list[dict[str, Any]]:
    """The rules as JSON-ready dicts, in Letta's field names."""
    return _RULES_ADAPTER.dump_python(list(rules), mode="json")


def default_rules_for(tool_names: Iterable[str]) -> list[ToolRule]:
    """Letta's default rules for the given tools, in the order the tools are given.

    ``send_message`` -> ``exit_loop``; each base memory tool present -> ``continue_loop``.
    Tools that are absent get no rule. Merging with user rules is the caller's choice.
    """
    rules: list[ToolRule] = []
    seen: set[str] = set()
    for name in tool_names:
        if name in seen:
            continue
        seen.add(name)
        if name == TERMINAL_DEFAULT_TOOL:
            rules.append(TerminalToolRule(tool_name=name))
        elif name in BASE_CONTINUE_TOOLS:
            rules.append(ContinueToolRule(tool_name=name))
    return rules


def with_letta_templates(rule: ToolRule) -> ToolRule:
    """The rule with Letta's default ``prompt_template`` filled in when it has none."""
    if rule.prompt_template is not None:
        return rule
    default = LETTA_DEFAULT_TEMPLATES.get(rule.type)
    return rule if default is None else rule.model_copy(update={"prompt_template": default})
