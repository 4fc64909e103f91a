"""The registry and schemas match Letta 0.8.17's catalogue; heartbeat helpers; argument checks."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

import builtin_tools
from builtin_tools import (
    BASE_MEMORY_TOOL_NAMES,
    BASE_TOOL_NAMES,
    BUILTIN_TOOL_NAMES,
    CORE_MEMORY_TOOL_NAMES,
    MULTI_AGENT_TOOL_NAMES,
    CoreMemory,
    ToolContext,
    all_builtins,
    get_builtin,
    strip_heartbeat,
    with_heartbeat,
)

REFERENCE = Path("/work/shared/reference/letta-0.8.17/responses/tool_list__01_GET_v1_tools.json")
HEARTBEAT_TEXT = (
    "Request an immediate heartbeat after function execution. "
    "Set to true if you want to send a follow-up message or run a follow-up tool."
)


class _NoPorts:
    async def insert(self, text, tags):  # pragma: no cover - never reached
        raise AssertionError

    async def search(self, *args):  # pragma: no cover - never reached
        raise AssertionError


def _ctx() -> ToolContext:
    return ToolContext("agent-1", "a", CoreMemory(), _NoPorts(), _NoPorts())


def test_every_named_set_resolves_to_a_registered_tool() -> None:
    names = BASE_TOOL_NAMES + CORE_MEMORY_TOOL_NAMES + BASE_MEMORY_TOOL_NAMES + MULTI_AGENT_TOOL_NAMES + BUILTIN_TOOL_NAMES
    for name in names:
        tool = get_builtin(name)
        assert tool is not None, name
        assert tool.json_schema["name"] == name
        assert tool.tags == (tool.tool_type,)
    assert get_builtin("no_such_tool") is None
    assert len({t.name for t in all_builtins()}) == len(all_builtins())


@pytest.mark.skipif(not REFERENCE.exists(), reason="Letta reference responses not available")
def test_schemas_and_tool_types_match_letta_reference() -> None:
    reference = {t["name"]: t for t in json.loads(REFERENCE.read_text())["response"]["body"]}
    compared = 0
    for tool in all_builtins():
        ref = reference.get(tool.name)
        if ref is None:
            continue  # send_message_to_agents_matching_all_tags is an older Letta tool
        compared += 1
        assert tool.tool_type == ref["tool_type"], tool.name
        assert tool.json_schema["parameters"] == ref["json_schema"]["parameters"], tool.name
        if ref["json_schema"]["description"] != "<text omitted>":
            assert tool.json_schema["description"] == ref["json_schema"]["description"], tool.name
    assert compared == 15


def test_with_heartbeat_adds_a_required_boolean_without_touching_the_original() -> None:
    original = get_builtin("conversation_search").json_schema
    schema = with_heartbeat(original)
    assert schema["parameters"]["properties"]["request_heartbeat"] == {"type": "boolean", "description": HEARTBEAT_TEXT}
    assert schema["parameters"]["required"] == ["query", "request_heartbeat"]
    assert "request_heartbeat" not in original["parameters"]["properties"]
    assert with_heartbeat(schema) == schema


def test_send_message_is_offered_without_heartbeat_and_others_with_it() -> None:
    assert "request_heartbeat" not in get_builtin("send_message").schema_for_model()["parameters"]["properties"]
    assert "request_heartbeat" in get_builtin("core_memory_append").schema_for_model()["parameters"]["properties"]


@pytest.mark.parametrize(
    ("args", "rest", "requested"),
    [
        ({"q": 1, "request_heartbeat": True}, {"q": 1}, True),
        ({"q": 1, "request_heartbeat": "true"}, {"q": 1}, True),
        ({"q": 1, "request_heartbeat": False}, {"q": 1}, False),
        ({"q": 1}, {"q": 1}, False),
    ],
)
def test_strip_heartbeat_splits_the_flag_off(args: dict, rest: dict, requested: bool) -> None:
    assert strip_heartbeat(args) == (rest, requested)


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        ({}, "missing required argument(s) query"),
        ({"query": "x", "bogus": 1}, "unexpected argument(s) bogus"),
        ({"query": 5}, "argument 'query' must be of type string"),
        ({"query": "x", "page": "two"}, "argument 'page' must be of type integer"),
        ({"query": "x", "page": True}, "argument 'page' must be of type integer"),
    ],
)
async def test_malformed_arguments_come_back_as_error_output(args: dict, fragment: str) -> None:
    out = await get_builtin("conversation_search").run(args, _ctx())
    assert out.status == "error"
    assert fragment in out.text
    assert "conversation_search" in out.text


@pytest.mark.anyio
async def test_enum_arguments_are_checked() -> None:
    out = await get_builtin("run_code").run({"code": "1", "language": "cobol"}, _ctx())
    assert out.status == "error"
    assert "must be one of ['python', 'js', 'ts', 'r', 'java']" in out.text


@pytest.mark.anyio
async def test_send_message_returns_the_fixed_receipt_and_ignores_heartbeat() -> None:
    out = await get_builtin("send_message").run({"message": "hi", "request_heartbeat": True}, _ctx())
    assert (out.status, out.text) == ("success", "Sent message successfully.")


def test_public_surface_is_exported_and_package_never_imports_host() -> None:
    for name in builtin_tools.__all__:
        assert hasattr(builtin_tools, name), name
    code = "import sys, builtin_tools; print(sorted(m for m in sys.modules if m == 'host' or m.startswith('host.')))"
    root = Path(builtin_tools.__file__).resolve().parent.parent
    result = subprocess.run([sys.executable, "-c", code], cwd=root, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"
