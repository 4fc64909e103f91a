"""Core memory: an in-memory view of an agent's blocks for one step, and its edit rules.

``CoreMemory`` holds the blocks the host loaded; its edit methods enforce Letta's rules
(read-only blocks, the character limit, exact old content, no "Line N:" prefixes) and
raise ``MemoryEditError`` with a message written for the model. The tool functions in
``memory_tools`` turn those into ``ToolOutput`` errors. After the step the host persists
the blocks named in ``changed_labels``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field

from builtin_tools.errors import MemoryEditError

DEFAULT_BLOCK_LIMIT = 5000
READ_ONLY_MESSAGE = "This block is read-only and cannot be edited."
# Letta shows blocks with "Line N: " prefixes to some models; those must not be written back.
_LINE_PREFIX = re.compile(r"(?m)^[ \t]*Line \d+: ")


@dataclass(slots=True)
class MemoryBlock:
    """One core-memory block as the tools see it."""

    label: str
    value: str
    limit: int = DEFAULT_BLOCK_LIMIT
    description: str = ""
    read_only: bool = False
    block_id: str | None = None


@dataclass
class CoreMemory:
    """The agent's blocks for one step; edits mark labels in ``changed_labels``."""

    blocks: list[MemoryBlock] = field(default_factory=list)
    changed_labels: set[str] = field(default_factory=set)

    @classmethod
    def of(cls, blocks: Iterable[MemoryBlock]) -> CoreMemory:
        return cls(blocks=list(blocks))

    def labels(self) -> list[str]:
        return [block.label for block in self.blocks]

    def get(self, label: str) -> MemoryBlock | None:
        for block in self.blocks:
            if block.label == label:
                return block
        return None

    def changed_blocks(self) -> list[MemoryBlock]:
        return [block for block in self.blocks if block.label in self.changed_labels]

    # --- edits (raise MemoryEditError) -------------------------------------------------

    def append(self, label: str, content: str) -> MemoryBlock:
        """Letta's core_memory_append: the value gets a newline and ``content``."""
        block = self._editable(label)
        self._write(block, block.value + "\n" + content if block.value else content)
        return block

    def replace_all(self, label: str, old: str, new: str) -> MemoryBlock:
        """Letta's core_memory_replace: every occurrence of ``old`` becomes ``new``."""
        block = self._editable(label)
        if old == "":
            raise MemoryEditError(label, "old_content must not be empty: give the exact text to replace.")
        if old not in block.value:
            raise MemoryEditError(
                label,
                f"Old content {old!r} not found in memory block {label!r}. "
                "Copy the text to replace exactly as it appears in the block.",
            )
        self._write(block, block.value.replace(old, new))
        return block

    def replace_unique(self, label: str, old: str, new: str) -> MemoryBlock:
        """Letta's memory_replace: ``old`` must occur exactly once."""
        block = self._editable(label)
        self._reject_line_prefixes(label, "old_str", old)
        self._reject_line_prefixes(label, "new_str", new)
        if old == "":
            raise MemoryEditError(label, "old_str must not be empty: give the exact text to replace.")
        count = block.value.count(old)
        if count == 0:
            raise MemoryEditError(
                label,
                f"No replacement was performed: old_str {old!r} does not appear verbatim in "
                f"memory block {label!r}. Copy it exactly, including whitespace.",
            )
        if count > 1:
            lines = _lines_containing(block.value, old)
            raise MemoryEditError(
                label,
                f"No replacement was performed: old_str {old!r} occurs {count} times in memory "
                f"block {label!r} (lines {lines}). Include more surrounding text so it is unique.",
            )
        self._write(block, block.value.replace(old, new, 1))
        return block

    def insert(self, label: str, new: str, insert_line: int = -1) -> MemoryBlock:
        """Letta's memory_insert: insert ``new`` after line ``insert_line`` (0 = top, -1 = end)."""
        block = self._editable(label)
        self._reject_line_prefixes(label, "new_str", new)
        lines = block.value.split("\n") if block.value else []
        n_lines = len(lines)
        at = n_lines if insert_line == -1 else insert_line
        if at < 0 or at > n_lines:
            raise MemoryEditError(
                label,
                f"Invalid insert_line {insert_line}: memory block {label!r} has {n_lines} line(s); "
                f"use a value in [0, {n_lines}] or -1 for the end.",
            )
        self._write(block, "\n".join(lines[:at] + new.split("\n") + lines[at:]))
        return block

    def rewrite(self, label: str, new_value: str) -> MemoryBlock:
        """Letta's memory_rethink: the block's whole value becomes ``new_value``."""
        block = self._editable(label)
        self._reject_line_prefixes(label, "new_memory", new_value)
        self._write(block, new_value)
        return block

    def _editable(self, label: str) -> MemoryBlock:
        block = self.get(label)
        if block is None:
            known = ", ".join(repr(name) for name in self.labels()) or "(none)"
            raise MemoryEditError(
                label, f"There is no memory block with label {label!r}. Existing labels: {known}."
            )
        if block.read_only:
            raise MemoryEditError(label, f"Memory block {label!r}: {READ_ONLY_MESSAGE}")
        return block

    def _write(self, block: MemoryBlock, value: str) -> None:
        if len(value) > block.limit:
            raise MemoryEditError(
                block.label,
                f"Edit refused: memory block {block.label!r} would be {len(value)} characters, "
                f"over its limit of {block.limit} (it currently holds {len(block.value)}). "
                "Shorten the new text, or condense the block first (memory_rethink / core_memory_replace).",
            )
        block.value = value
        self.changed_labels.add(block.label)

    @staticmethod
    def _reject_line_prefixes(label: str, arg: str, text: str) -> None:
        if _LINE_PREFIX.search(text):
            raise MemoryEditError(
                label,
                f"{arg} contains a line-number prefix such as 'Line 1: '. Line numbers are for display "
                "only; call the tool again with the text without them.",
            )

    # --- rendering -------------------------------------------------------------------

    def compile(self, *, line_numbers: bool = False) -> str:
        """The memory section of the system prompt, one element per block."""
        parts = [
            "<memory_blocks>",
            "The following memory blocks are currently in your core memory:",
            "",
        ]
        for block in self.blocks:
            parts.append(f"<{block.label}>")
            if block.description:
                parts += ["<description>", block.description, "</description>"]
            parts += [
                "<metadata>",
                f"- chars_current={len(block.value)}",
                f"- chars_limit={block.limit}",
            ]
            if block.read_only:
                parts.append("- read_only=true")
            parts += ["</metadata>", "<value>"]
            if line_numbers:
                parts.append(
                    "# NOTE: line numbers are shown for reference only; never write them into memory."
                )
                parts += [f"Line {i}: {line}" for i, line in enumerate(block.value.split("\n"), start=1)]
            else:
                parts.append(block.value)
            parts += ["</value>", f"</{block.label}>", ""]
        parts.append("</memory_blocks>")
        return "\n".join(parts)


def _lines_containing(value: str, needle: str) -> list[int]:
    """1-based line numbers where occurrences of ``needle`` start."""
    found: list[int] = []
    start = value.find(needle)
    while start != -1:
        found.append(value.count("\n", 0, start) + 1)
        start = value.find(needle, start + 1)
    return found
