"""Core-memory tools: Letta's edit rules, as a table, plus the compiled prompt section."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pytest

from builtin_tools import CoreMemory, MemoryBlock, ToolContext, get_builtin


class _NoPorts:
    async def insert(self, text, tags):  # pragma: no cover - never reached
        raise AssertionError

    async def search(self, *args):  # pragma: no cover - never reached
        raise AssertionError


def _memory() -> CoreMemory:
    return CoreMemory.of(
        [
            MemoryBlock("persona", "I am Sam.\nI like tea.", limit=60, description="Who I am."),
            MemoryBlock("human", "Name: Bob\nLikes: cats\nLikes: cats", limit=200),
            MemoryBlock("policy", "Be kind.", read_only=True),
        ]
    )


@dataclass(frozen=True)
class Case:
    id: str
    tool: str
    args: dict[str, Any]
    status: str
    # expected block values after the call (only the labels listed)
    values: dict[str, str] = field(default_factory=dict)
    # fragments the tool text must contain
    says: tuple[str, ...] = ()


CASES = [
    # core_memory_append
    Case("append ok", "core_memory_append", {"label": "persona", "content": "I code."}, "success",
         {"persona": "I am Sam.\nI like tea.\nI code."}, ("None",)),
    Case("append read-only", "core_memory_append", {"label": "policy", "content": "x"}, "error",
         {"policy": "Be kind."}, ("'policy'", "read-only")),
    Case("append over limit", "core_memory_append", {"label": "persona", "content": "x" * 50}, "error",
         {"persona": "I am Sam.\nI like tea."}, ("limit of 60", "currently holds 21", "would be 72")),
    Case("append unknown label", "core_memory_append", {"label": "nope", "content": "x"}, "error",
         {}, ("'nope'", "'persona', 'human', 'policy'")),
    # core_memory_replace (replaces every occurrence, like Letta)
    Case("replace ok", "core_memory_replace", {"label": "human", "old_content": "cats", "new_content": "dogs"},
         "success", {"human": "Name: Bob\nLikes: dogs\nLikes: dogs"}),
    Case("replace delete", "core_memory_replace", {"label": "persona", "old_content": "\nI like tea.", "new_content": ""},
         "success", {"persona": "I am Sam."}),
    Case("replace missing old", "core_memory_replace", {"label": "human", "old_content": "Alice", "new_content": "x"},
         "error", {"human": "Name: Bob\nLikes: cats\nLikes: cats"}, ("'Alice' not found", "'human'")),
    Case("replace read-only", "core_memory_replace", {"label": "policy", "old_content": "kind", "new_content": "mean"},
         "error", {"policy": "Be kind."}, ("read-only",)),
    Case("replace over limit", "core_memory_replace", {"label": "persona", "old_content": "tea", "new_content": "t" * 60},
         "error", {"persona": "I am Sam.\nI like tea."}, ("limit of 60",)),
    # memory_replace (must be unique)
    Case("memory_replace ok", "memory_replace", {"label": "persona", "old_str": "tea", "new_str": "coffee"},
         "success", {"persona": "I am Sam.\nI like coffee."}, ("'persona' has been edited", "I like coffee.")),
    Case("memory_replace omitted new_str deletes", "memory_replace", {"label": "persona", "old_str": " like tea"},
         "success", {"persona": "I am Sam.\nI."}),
    Case("memory_replace duplicate", "memory_replace", {"label": "human", "old_str": "Likes: cats", "new_str": "x"},
         "error", {"human": "Name: Bob\nLikes: cats\nLikes: cats"}, ("occurs 2 times", "lines [2, 3]", "unique")),
    Case("memory_replace missing", "memory_replace", {"label": "human", "old_str": "Alice", "new_str": "x"},
         "error", {}, ("does not appear verbatim", "'human'")),
    Case("memory_replace line prefix", "memory_replace", {"label": "persona", "old_str": "tea", "new_str": "Line 2: coffee"},
         "error", {"persona": "I am Sam.\nI like tea."}, ("line-number prefix",)),
    Case("memory_replace unknown label", "memory_replace", {"label": "x", "old_str": "a", "new_str": "b"},
         "error", {}, ("'x'", "Existing labels")),
    # memory_insert
    Case("insert at end", "memory_insert", {"label": "persona", "new_str": "I code."}, "success",
         {"persona": "I am Sam.\nI like tea.\nI code."}),
    Case("insert at top", "memory_insert", {"label": "persona", "new_str": "Hello.", "insert_line": 0}, "success",
         {"persona": "Hello.\nI am Sam.\nI like tea."}),
    Case("insert after line 1", "memory_insert", {"label": "persona", "new_str": "Mid.", "insert_line": 1}, "success",
         {"persona": "I am Sam.\nMid.\nI like tea."}),
    Case("insert bad line", "memory_insert", {"label": "persona", "new_str": "x", "insert_line": 9}, "error",
         {}, ("Invalid insert_line 9", "[0, 2]")),
    Case("insert line prefix", "memory_insert", {"label": "persona", "new_str": "Line 3: x"}, "error",
         {}, ("line-number prefix",)),
    Case("insert read-only", "memory_insert", {"label": "policy", "new_str": "x"}, "error", {}, ("read-only",)),
    Case("insert over limit", "memory_insert", {"label": "persona", "new_str": "y" * 45}, "error", {}, ("limit of 60",)),
    # memory_rethink
    Case("rethink ok", "memory_rethink", {"label": "human", "new_memory": "Name: Bob\nLikes: cats"}, "success",
         {"human": "Name: Bob\nLikes: cats"}),
    Case("rethink over limit", "memory_rethink", {"label": "persona", "new_memory": "z" * 61}, "error",
         {}, ("would be 61", "limit of 60")),
    Case("rethink read-only", "memory_rethink", {"label": "policy", "new_memory": "x"}, "error", {}, ("read-only",)),
    Case("rethink unknown label", "memory_rethink", {"label": "notes", "new_memory": "x"}, "error",
         {}, ("'notes'", "'persona', 'human', 'policy'")),
    Case("rethink line prefix", "memory_rethink", {"label": "human", "new_memory": "Line 1: Bob"}, "error",
         {}, ("line-number prefix",)),
]


@pytest.mark.anyio
@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
async def test_memory_tool_table(case: Case) -> None:
    memory = _memory()
    before = {b.label: b.value for b in memory.blocks}
    ctx = ToolContext("agent-1", "sam", memory, _NoPorts(), _NoPorts())
    out = await get_builtin(case.tool).run(case.args, ctx)
    assert out.status == case.status, out.text
    for fragment in case.says:
        assert fragment in out.text
    for label, value in case.values.items():
        assert memory.get(label).value == value
    changed = {b.label for b in memory.blocks if b.value != before[b.label]}
    assert memory.changed_labels == changed
    if case.status == "error":
        assert changed == set()


def test_compile_renders_each_block_with_metadata() -> None:
    text = _memory().compile()
    assert text.startswith("<memory_blocks>") and text.endswith("</memory_blocks>")
    assert "<persona>\n<description>\nWho I am.\n</description>" in text
    assert "- chars_current=21\n- chars_limit=60" in text
    assert "<policy>" in text and "- read_only=true" in text
    assert "<value>\nI am Sam.\nI like tea.\n</value>\n</persona>" in text


def test_compile_with_line_numbers_prefixes_each_line() -> None:
    text = _memory().compile(line_numbers=True)
    assert "Line 1: I am Sam.\nLine 2: I like tea." in text


def test_append_to_an_empty_block_adds_no_leading_newline() -> None:
    memory = CoreMemory.of([MemoryBlock("notes", "")])
    memory.append("notes", "first")
    assert memory.get("notes").value == "first"
    assert [b.label for b in memory.changed_blocks()] == ["notes"]
