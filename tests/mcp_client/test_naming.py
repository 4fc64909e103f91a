"""The agent-facing tool naming rule (pure)."""

from __future__ import annotations

import pytest

from mcp_client import assign_agent_names
from mcp_client.naming import VALID_NAME


@pytest.mark.parametrize(
    ("pairs", "expected"),
    [
        ([("a", "echo")], {("a", "echo"): "echo"}),
        ([("a", "echo"), ("b", "echo")], {("a", "echo"): "a__echo", ("b", "echo"): "b__echo"}),
        ([("a", "echo"), ("b", "add")], {("a", "echo"): "echo", ("b", "add"): "add"}),
        ([("a", "get.user")], {("a", "get.user"): "get_user"}),
        ([("a", "get.user"), ("b", "get_user")], {("a", "get.user"): "a__get_user", ("b", "get_user"): "b__get_user"}),
        ([("my server", "x y"), ("z", "x y")], {("my server", "x y"): "my_server__x_y", ("z", "x y"): "z__x_y"}),
    ],
)
def test_naming_table(pairs, expected) -> None:
    assert assign_agent_names(pairs) == expected


def test_names_are_valid_unique_and_order_independent() -> None:
    long_tool = "t" * 80
    pairs = [
        ("a", "echo"), ("b", "echo"), ("a", "b__echo"),  # a qualified name that equals a short one
        ("x.y", "t"), ("x_y", "t"),  # servers that sanitize alike
        ("s", long_tool), ("srv" * 30, "echo2"), ("other", "echo2"), ("", "ü"),
    ]  # fmt: skip
    names = assign_agent_names(pairs)
    assert len(set(names.values())) == len(pairs)
    assert all(VALID_NAME.match(name) for name in names.values())
    assert names[("a", "b__echo")] == "b__echo"
    assert len(names[("s", long_tool)]) == 64
    assert assign_agent_names(reversed(pairs)) == names
