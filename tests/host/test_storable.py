"""host.storable: NUL characters found and replaced wherever they sit in a JSON-like value."""

from __future__ import annotations

from host.storable import nul_path, storable


def test_nul_is_replaced_in_nested_strings_and_keys_and_nothing_else_changes() -> None:
    value = {"a": ["x\x00y", 3, None, {"k\x00": ("t\x00",)}], "b": "clean"}
    assert storable(value) == {"a": ["x\ufffdy", 3, None, {"k\ufffd": ("t\ufffd",)}], "b": "clean"}
    clean = {"a": ["x", 1]}
    assert storable(clean) == clean
    assert storable("plain") == "plain" and storable(None) is None


def test_nul_path_names_the_first_field_holding_one() -> None:
    assert nul_path({"messages": [{"role": "user", "content": "a\x00"}]}) == "body.messages[0].content"
    assert nul_path({"ok": "yes", "list": [1, "two"]}) is None
    assert nul_path({"bad\x00key": 1}) == "body"
