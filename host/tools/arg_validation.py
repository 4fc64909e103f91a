"""A tool call's arguments checked against its JSON schema before the call is dispatched.

Every tool is checked, whatever its source:

    built-in  -> ``BuiltinTool.run`` checks against the built-in's own schema (closed: unknown
                 arguments are refused), so a built-in reached any other way is checked too
    custom, MCP, Composio -> ``argument_problem`` here, against the schema stored with the tool
                 (``json_schema["parameters"]``, or an MCP tool's input schema), as the schema says

The checker itself is ``builtin_tools.check_arguments`` (jsonschema, compiled validators cached per
schema). A bad call is data: the dispatcher returns the message as an error tool return, the tool
never runs, and the model reads which argument is wrong and why.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from builtin_tools import check_arguments


def argument_problem(tool_name: str, json_schema: Mapping[str, Any], args: Mapping[str, Any]) -> str | None:
    """None when ``args`` fit the tool's schema, else the error text the model gets back."""
    parameters = json_schema.get("parameters") if isinstance(json_schema, Mapping) else None
    problem = check_arguments(parameters if isinstance(parameters, Mapping) else None, args)
    return None if problem is None else f"Invalid arguments for {tool_name}: {problem}"
