"""A tool call's arguments checked against the tool's JSON schema (``jsonschema``).

One checker for every kind of tool: built-ins call it from ``BuiltinTool.run``; the host calls it
before it dispatches a custom, MCP or Composio tool (``host.tools.arg_validation``). It answers
``None`` when the arguments fit, else one line the model can act on::

    argument 'page' must be of type integer: 'two' is not of type 'integer'; expected (query: string,
    page: integer (optional))

Letta's tolerance is kept: the loop strips ``request_heartbeat`` and ``inner_thoughts`` before a tool
runs, so neither is ever required nor unexpected here, and an optional top-level argument sent as
``null`` means "not given". A schema that is itself invalid (or whose ``$ref`` cannot be resolved)
cannot judge anything: the call goes ahead and the schema is logged once.

Compiled validators are cached per schema (keyed by its JSON text): a step checks its calls
without recompiling or re-checking the schema against the metaschema.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from functools import lru_cache
from typing import Any, cast

from jsonschema import Draft202012Validator
from jsonschema.exceptions import SchemaError, ValidationError
from jsonschema.protocols import Validator
from jsonschema.validators import validator_for
from referencing.exceptions import Unresolvable

logger = logging.getLogger(__name__)

# What the model may add to any call (the loop strips them before the tool runs).
TOLERATED_ARGUMENTS: frozenset[str] = frozenset({"request_heartbeat", "inner_thoughts"})
MAX_PROBLEMS = 3  # problems named in one message
_VALUE_CHARS = 80  # of a value quoted in a message


class _Checker:
    """One schema, compiled: its validator and what messages need (names, required, signature)."""

    __slots__ = ("validator", "properties", "required", "signature")

    def __init__(self, validator: Validator, properties: dict[str, Any], required: list[str]) -> None:
        self.validator = validator
        self.properties = properties
        self.required = required
        self.signature = _signature(properties, required)


def check_arguments(parameters: Mapping[str, Any] | None, args: Mapping[str, Any], *,
                    closed: bool = False) -> str | None:
    """None when ``args`` fit ``parameters`` (the ``parameters`` object of a Letta json schema), else
    a message naming each argument and its problem. ``closed``: arguments the schema does not name are
    refused even when it does not say ``additionalProperties: false`` (the built-ins' convention)."""
    checker = _checker(_key(parameters), closed)
    if checker is None:
        return None
    given = {k: v for k, v in args.items()
             if k not in TOLERATED_ARGUMENTS and not (v is None and k not in checker.required)}
    try:
        errors = sorted(checker.validator.iter_errors(given), key=_order)
    except Unresolvable as exc:
        logger.warning("tool schema has an unresolvable reference (%s); arguments not checked", exc)
        return None
    if not errors:
        return None
    return "; ".join(_describe(errors, given, checker)) + f"; expected {checker.signature}."


def _key(parameters: Mapping[str, Any] | None) -> str:
    try:
        return json.dumps(parameters or {}, separators=(",", ":"))  # key order kept: the signature shows it
    except (TypeError, ValueError):
        return json.dumps(parameters or {}, separators=(",", ":"), default=repr)


@lru_cache(maxsize=1024)
def _checker(key: str, closed: bool) -> _Checker | None:
    schema = json.loads(key)  # a private copy: nobody else can mutate what the validator holds
    if not isinstance(schema, dict):
        logger.warning("tool parameters are not a JSON object (%.200s); arguments not checked", key)
        return None
    schema.setdefault("type", "object")
    declared = schema.get("properties")
    properties: dict[str, Any] = declared if isinstance(declared, dict) else {}
    required = [r for r in schema.get("required") or [] if isinstance(r, str)]
    if "required" in schema and isinstance(schema["required"], list):
        schema["required"] = [r for r in schema["required"] if r not in TOLERATED_ARGUMENTS]
        required = [r for r in required if r not in TOLERATED_ARGUMENTS]
    if closed and "additionalProperties" not in schema and "patternProperties" not in schema:
        schema["additionalProperties"] = False
    cls = validator_for(schema, default=Draft202012Validator)
    try:
        cls.check_schema(schema)
    except SchemaError as exc:
        logger.warning("tool parameters are not a valid JSON schema (%s at %s); arguments not checked",
                       exc.message, "/".join(map(str, exc.absolute_path)) or "top level")
        return None
    return _Checker(cls(schema), properties, required)


def _order(error: ValidationError) -> tuple[int, int, str]:
    """Missing and unexpected arguments first, then by depth and path: the model fixes the shape first."""
    top = 0 if not error.absolute_path and error.validator in ("required", "additionalProperties") else 1
    return (top, len(error.absolute_path), _path(error))


def _describe(errors: list[ValidationError], given: Mapping[str, Any], checker: _Checker) -> list[str]:
    problems: list[str] = []
    missing: list[str] = []
    for error in errors:
        if not error.absolute_path and error.validator == "required":
            names = cast("list[str]", error.validator_value)  # the schema's "required": a list of names
            missing.extend(name for name in names if name not in given and name not in missing)
            continue
        if not error.absolute_path and error.validator == "additionalProperties":
            unknown = [name for name in given if name not in checker.properties]
            problems.append(f"unexpected argument(s) {', '.join(unknown)}")
            continue
        problems.append(_one(error))
    if missing:
        problems.insert(0, f"missing required argument(s) {', '.join(missing)}")
    shown = problems[:MAX_PROBLEMS]
    if len(problems) > MAX_PROBLEMS:
        shown.append(f"and {len(problems) - MAX_PROBLEMS} more problem(s)")
    return shown


def _one(error: ValidationError) -> str:
    where = f"argument {_path(error)!r}" if error.absolute_path else "the arguments"
    value = _short(error.instance)
    if error.validator == "type":
        expected = error.validator_value
        names = " or ".join(expected) if isinstance(expected, list) else expected
        return f"{where} must be of type {names}: {value} is not of type {_short(expected)}"
    if error.validator == "enum":
        return f"{where} must be one of {_short(error.validator_value, 200)}, got {value}"
    if error.validator == "required":
        names = cast("list[str]", error.validator_value)
        missing = [n for n in names if isinstance(error.instance, dict) and n not in error.instance]
        return f"{where} is missing required field(s) {', '.join(missing)}"
    return f"{where}: {_clip(error.message, 200)}"


def _path(error: ValidationError) -> str:
    out = ""
    for part in error.absolute_path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def _short(value: Any, limit: int = _VALUE_CHARS) -> str:
    return _clip(repr(value), limit)


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _signature(properties: dict[str, Any], required: list[str]) -> str:
    parts = []
    for name, spec in properties.items():
        if name in TOLERATED_ARGUMENTS:
            continue
        kind = spec.get("type", "any") if isinstance(spec, dict) else "any"
        kind = " | ".join(map(str, kind)) if isinstance(kind, list) else kind
        parts.append(f"{name}: {kind}{'' if name in required else ' (optional)'}")
    return "(" + ", ".join(parts) + ")"
