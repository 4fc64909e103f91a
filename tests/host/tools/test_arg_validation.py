"""Tool-call arguments against the tool's JSON schema: the table of calls, the tolerance kept, the cache."""

from __future__ import annotations

import logging
from typing import Any

import pytest

from builtin_tools import check_arguments
from builtin_tools.arguments import _checker
from host.tools.arg_validation import argument_problem

WEATHER = {
    "type": "object",
    "properties": {
        "city": {"type": "string"},
        "days": {"type": "integer", "minimum": 1},
        "units": {"type": "string", "enum": ["c", "f"]},
        "tags": {"type": "array", "items": {"type": "string"}},
        "where": {"type": "object", "properties": {"lat": {"type": "number"}}, "required": ["lat"]},
        "note": {"type": ["string", "null"]},
    },
    "required": ["city"],
}
CLOSED = {**WEATHER, "additionalProperties": False}
REFS = {  # an MCP server's pydantic-made schema: $defs and $ref
    "$schema": "http://json-schema.org/draft-07/schema#",
    "type": "object",
    "properties": {"point": {"$ref": "#/definitions/Point"}},
    "required": ["point"],
    "definitions": {"Point": {"type": "object", "properties": {"x": {"type": "integer"}}, "required": ["x"]}},
}


@pytest.mark.parametrize(
    ("schema", "args", "problem"),
    [
        # fits
        (WEATHER, {"city": "Oslo"}, None),
        (WEATHER, {"city": "Oslo", "days": 3, "units": "c", "tags": ["a"], "where": {"lat": 1.5}}, None),
        (WEATHER, {"city": "Oslo", "extra": 1}, None),  # the schema does not close itself
        (WEATHER, {"city": "Oslo", "days": None}, None),  # an optional argument sent as null = not given
        (WEATHER, {"city": "Oslo", "note": None}, None),
        (REFS, {"point": {"x": 1}}, None),
        (None, {}, None),
        ({}, {"anything": 1}, None),
        # Letta's extras the loop strips are never a problem, even where a stored schema requires them
        ({**WEATHER, "required": ["city", "request_heartbeat"]}, {"city": "Oslo"}, None),
        (CLOSED, {"city": "Oslo", "request_heartbeat": True, "inner_thoughts": "hm"}, None),
        # does not fit
        (WEATHER, {"city": "Oslo", "days": "abc"},
         "argument 'days' must be of type integer: 'abc' is not of type 'integer'"),
        (WEATHER, {"city": "Oslo", "days": True}, "argument 'days' must be of type integer: True is not of type"),
        (WEATHER, {"city": "Oslo", "days": 0}, "argument 'days': 0 is less than the minimum of 1"),
        (WEATHER, {}, "missing required argument(s) city"),
        (WEATHER, {"city": None}, "argument 'city' must be of type string: None is not of type 'string'"),
        (WEATHER, {"city": "Oslo", "units": "k"}, "argument 'units' must be one of ['c', 'f'], got 'k'"),
        (WEATHER, {"city": "Oslo", "tags": ["a", 2]},
         "argument 'tags[1]' must be of type string: 2 is not of type 'string'"),
        (WEATHER, {"city": "Oslo", "where": {}}, "argument 'where' is missing required field(s) lat"),
        (WEATHER, {"city": "Oslo", "where": {"lat": "n"}}, "argument 'where.lat' must be of type number"),
        (WEATHER, {"city": "Oslo", "note": 5}, "argument 'note' must be of type string or null"),
        (CLOSED, {"city": "Oslo", "bogus": 1, "other": 2}, "unexpected argument(s) bogus, other"),
        (REFS, {"point": {"x": "1"}}, "argument 'point.x' must be of type integer"),
        (REFS, {}, "missing required argument(s) point"),
    ],
)
def test_arguments_against_the_schema(schema: dict[str, Any] | None, args: dict[str, Any],
                                      problem: str | None) -> None:
    found = check_arguments(schema, args)
    if problem is None:
        assert found is None
    else:
        assert found is not None and problem in found, found


def test_the_message_names_every_problem_first_the_missing_ones_and_the_expected_signature() -> None:
    found = check_arguments(CLOSED, {"days": "x", "units": "k", "bogus": 1})
    assert found is not None
    assert found.startswith("missing required argument(s) city; unexpected argument(s) bogus; ")
    assert "argument 'days' must be of type integer" in found
    assert "and 1 more problem(s)" in found  # three shown, the fourth counted
    assert found.endswith("expected (city: string, days: integer (optional), units: string (optional), "
                          "tags: array (optional), where: object (optional), note: string | null (optional)).")


def test_closed_refuses_names_the_schema_does_not_give() -> None:
    assert check_arguments(WEATHER, {"city": "Oslo", "bogus": 1}) is None
    assert "unexpected argument(s) bogus" in (check_arguments(WEATHER, {"city": "Oslo", "bogus": 1}, closed=True) or "")


def test_a_long_value_is_clipped_in_the_message() -> None:
    found = check_arguments(WEATHER, {"city": "x" * 10_000, "days": "y" * 10_000})
    assert found is not None and len(found) < 400


@pytest.mark.parametrize("schema", [
    {"type": "object", "properties": {"a": {"type": "integr"}}},  # not a valid JSON schema
    {"type": "object", "properties": {"a": {"$ref": "#/$defs/missing"}}},  # a reference nowhere
])
def test_a_schema_that_cannot_judge_lets_the_call_through_and_says_so_in_the_log(
        schema: dict[str, Any], caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="builtin_tools.arguments"):
        assert check_arguments(schema, {"a": 1}) is None
    assert "arguments not checked" in caplog.text


def test_validators_are_compiled_once_per_schema_whatever_the_dict() -> None:
    schema = {"type": "object", "properties": {"n": {"type": "integer", "maximum": 987654}}}
    before = _checker.cache_info()
    for _ in range(5):
        assert check_arguments(dict(schema), {"n": 1}) is None  # a new but equal dict each time
    after = _checker.cache_info()
    assert (after.misses - before.misses, after.hits - before.hits) == (1, 4)


def test_a_schema_edited_after_use_is_judged_by_its_new_content() -> None:
    schema: dict[str, Any] = {"type": "object", "properties": {"n": {"type": "integer"}}}
    assert check_arguments(schema, {"n": "x"}) is not None
    schema["properties"]["n"]["type"] = "string"
    assert check_arguments(schema, {"n": "x"}) is None


def test_the_host_message_names_the_tool_and_reads_the_letta_schema_shape() -> None:
    letta_schema = {"name": "weather", "description": "d", "parameters": WEATHER}
    assert argument_problem("weather", letta_schema, {"city": "Oslo"}) is None
    problem = argument_problem("weather", letta_schema, {"city": 1})
    assert problem is not None and problem.startswith("Invalid arguments for weather: argument 'city' must be")
    assert argument_problem("bare", {"name": "bare"}, {"x": 1}) is None  # no parameters: nothing to check
    assert argument_problem("odd", {"parameters": "not a schema"}, {"x": 1}) is None
