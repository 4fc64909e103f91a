"""Tool rules written as plain guidance for the system prompt. No I/O.

A rule with its own ``prompt_template`` is rendered from it (Jinja2, sandboxed, with the rule's
fields as variables, as Letta does); a template that fails to render falls back to the default
sentence. Several ``run_first`` rules become one sentence. Identical lines appear once. Jinja2 is
imported when a first template is rendered, not with the module.
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import cache
from typing import TYPE_CHECKING

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

if TYPE_CHECKING:
    from jinja2.sandbox import SandboxedEnvironment

__all__ = ["GUIDANCE_HEADER", "prompt_guidance"]

GUIDANCE_HEADER = "Tool rules (the server enforces these; a call that breaks one is refused):"


@cache
def _jinja() -> SandboxedEnvironment:
    from jinja2.sandbox import SandboxedEnvironment

    return SandboxedEnvironment(autoescape=False)


def prompt_guidance(rules: Iterable[ToolRule]) -> str:
    """The rules as a bullet list under :data:`GUIDANCE_HEADER`; ``""`` when there are none."""
    rules = list(rules)
    lines: list[str] = []
    init = [r for r in rules if isinstance(r, InitToolRule) and r.prompt_template is None]
    init_names = list(dict.fromkeys(r.tool_name for r in init))
    for rule in rules:
        if rule in init:
            if rule is init[0]:
                lines.append(_init_sentence(init_names))
            continue
        lines.append(_render(rule) or _sentence(rule))
    unique = list(dict.fromkeys(line for line in lines if line))
    if not unique:
        return ""
    return "\n".join([GUIDANCE_HEADER, *(f"- {line}" for line in unique)])


def _render(rule: ToolRule) -> str | None:
    if rule.prompt_template is None:
        return None
    from jinja2 import TemplateError

    try:
        text = _jinja().from_string(rule.prompt_template).render(**rule.model_dump())
    except TemplateError:
        return None
    return " ".join(text.split()) or None


def _init_sentence(names: list[str]) -> str:
    if len(names) == 1:
        return f"Start every response by calling {names[0]}."
    return f"Your first tool call in every response must be one of: {', '.join(names)}."


def _sentence(rule: ToolRule) -> str:
    name = rule.tool_name
    if isinstance(rule, InitToolRule):
        return _init_sentence([name])
    if isinstance(rule, TerminalToolRule):
        return f"Calling {name} ends your response."
    if isinstance(rule, ContinueToolRule):
        return f"After calling {name} you keep going: you will be asked for another step."
    if isinstance(rule, ChildToolRule):
        if not rule.children:
            return f"After {name}, no tool may be called."
        return f"After {name}, your next tool call must be one of: {', '.join(rule.children)}."
    if isinstance(rule, ParentToolRule):
        return f"{', '.join(rule.children)} may only be called right after {name}."
    if isinstance(rule, ConditionalToolRule):
        return _conditional_sentence(rule)
    if isinstance(rule, MaxCountPerStepToolRule):
        return f"Call {name} at most {rule.max_count_limit} time(s) per response."
    if isinstance(rule, RequiredBeforeExitToolRule):
        return f"You must call {name} before ending your response."
    if isinstance(rule, RequiresApprovalToolRule):
        return f"Calling {name} needs a user's approval; the call waits until it is approved."
    raise TypeError(f"unknown tool rule {rule!r}")  # pragma: no cover


def _conditional_sentence(rule: ConditionalToolRule) -> str:
    cases = "; ".join(f"{key!r} -> {child}" for key, child in rule.child_output_mapping.items())
    if rule.require_output_mapping:
        otherwise = "any other output is an error"
    elif rule.default_child is not None:
        otherwise = f"otherwise {rule.default_child}"
    else:
        otherwise = "otherwise any tool"
    return f"After {rule.tool_name}, the next tool depends on its output: {cases}; {otherwise}."
