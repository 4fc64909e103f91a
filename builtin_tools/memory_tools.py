"""Letta's core-memory tools over ``ToolContext.memory``.

core_memory_append / core_memory_replace (Letta's ``letta_memory_core``) and the
"memgpt v2" memory_replace / memory_insert / memory_rethink (plus memory_finish_edits)
that Letta 0.8.17 files under ``letta_sleeptime_core``.
"""

from __future__ import annotations

from typing import Any

from builtin_tools.errors import MemoryEditError
from builtin_tools.memory import MemoryBlock
from builtin_tools.ports import ToolContext
from builtin_tools.schemas import BuiltinTool, ToolOutput, make_schema

_SNIPPET_CONTEXT_LINES = 3


def _edited(block: MemoryBlock, focus: str | None = None) -> ToolOutput:
    """Success text: what changed and a numbered snippet for the model to review."""
    lines = block.value.split("\n")
    start, end = 0, len(lines)
    if focus:
        at = block.value.find(focus)
        if at != -1:
            first = block.value.count("\n", 0, at)
            last = first + focus.count("\n")
            start = max(0, first - _SNIPPET_CONTEXT_LINES)
            end = min(len(lines), last + _SNIPPET_CONTEXT_LINES + 1)
    snippet = "\n".join(f"{i + 1:>4}\t{lines[i]}" for i in range(start, end))
    return ToolOutput.success(
        f"The memory block {block.label!r} has been edited ({len(block.value)}/{block.limit} characters). "
        f"Its content now reads (line numbers for reference only):\n{snippet}\n"
        "Review the change; edit the block again if it is not what you intended."
    )


async def _core_memory_append(args: dict[str, Any], ctx: ToolContext) -> ToolOutput:
    try:
        ctx.memory.append(args["label"], args["content"])
    except MemoryEditError as err:
        return ToolOutput.error(err.message)
    return ToolOutput.success("None")


async def _core_memory_replace(args: dict[str, Any], ctx: ToolContext) -> ToolOutput:
    try:
        ctx.memory.replace_all(args["label"], args["old_content"], args["new_content"])
    except MemoryEditError as err:
        return ToolOutput.error(err.message)
    return ToolOutput.success("None")


async def _memory_replace(args: dict[str, Any], ctx: ToolContext) -> ToolOutput:
    new_str = args.get("new_str") or ""
    try:
        block = ctx.memory.replace_unique(args["label"], args["old_str"], new_str)
    except MemoryEditError as err:
        return ToolOutput.error(err.message)
    return _edited(block, new_str or None)


async def _memory_insert(args: dict[str, Any], ctx: ToolContext) -> ToolOutput:
    insert_line = args.get("insert_line")
    try:
        block = ctx.memory.insert(args["label"], args["new_str"], -1 if insert_line is None else insert_line)
    except MemoryEditError as err:
        return ToolOutput.error(err.message)
    return _edited(block, args["new_str"] or None)


async def _memory_rethink(args: dict[str, Any], ctx: ToolContext) -> ToolOutput:
    try:
        block = ctx.memory.rewrite(args["label"], args["new_memory"])
    except MemoryEditError as err:
        return ToolOutput.error(err.message)
    return _edited(block)


async def _memory_finish_edits(args: dict[str, Any], ctx: ToolContext) -> ToolOutput:
    return ToolOutput.success("None")


_CONTENT_DESC = "Content to write to the memory. All unicode (including emojis) are supported."
_LABEL_DESC = "Section of the memory to be edited, identified by its label."


def _tool(name: str, tool_type: str, description: str, props: dict, required: list[str], impl) -> BuiltinTool:
    return BuiltinTool(
        name=name,
        tool_type=tool_type,
        tags=(tool_type,),
        description=description,
        json_schema=make_schema(name, description, props, required),
        impl=impl,
    )


MEMORY_TOOLS: tuple[BuiltinTool, ...] = (
    _tool(
        "core_memory_append",
        "letta_memory_core",
        "Append to the contents of core memory.",
        {
            "label": {"type": "string", "description": "Section of the memory to be edited."},
            "content": {"type": "string", "description": _CONTENT_DESC},
        },
        ["label", "content"],
        _core_memory_append,
    ),
    _tool(
        "core_memory_replace",
        "letta_memory_core",
        "Replace the contents of core memory. To delete memories, use an empty string for new_content.",
        {
            "label": {"type": "string", "description": "Section of the memory to be edited."},
            "old_content": {"type": "string", "description": "String to replace. Must be an exact match."},
            "new_content": {"type": "string", "description": _CONTENT_DESC},
        },
        ["label", "old_content", "new_content"],
        _core_memory_replace,
    ),
    _tool(
        "memory_replace",
        "letta_sleeptime_core",
        "The memory_replace command allows you to replace a specific string in a memory block with a "
        "new string. This is used for making precise edits.",
        {
            "label": {"type": "string", "description": _LABEL_DESC},
            "old_str": {
                "type": "string",
                "description": "The text to replace (must match exactly, including whitespace and indentation).",
            },
            "new_str": {
                "type": "string",
                "description": "The new text to insert in place of the old text. Omit this argument to delete the old_str.",
            },
        },
        ["label", "old_str"],
        _memory_replace,
    ),
    _tool(
        "memory_insert",
        "letta_sleeptime_core",
        "The memory_insert command allows you to insert text at a specific location in a memory block.",
        {
            "label": {"type": "string", "description": _LABEL_DESC},
            "new_str": {"type": "string", "description": "The text to insert."},
            "insert_line": {
                "type": "integer",
                "description": "The line number after which to insert the text (0 for beginning of file). "
                "Defaults to -1 (end of the file).",
            },
        },
        ["label", "new_str"],
        _memory_insert,
    ),
    _tool(
        "memory_rethink",
        "letta_sleeptime_core",
        "Rewrite a memory block as a whole. Use it to reorganise or condense a block, integrating new "
        "information with what it already holds; for small, precise edits prefer memory_replace or "
        "memory_insert. Do not include line numbers in the new content.",
        {
            "label": {"type": "string", "description": "The memory block to be rewritten, identified by its label."},
            "new_memory": {
                "type": "string",
                "description": "The new memory contents with information integrated from existing memory "
                "blocks and the conversation context.",
            },
        },
        ["label", "new_memory"],
        _memory_rethink,
    ),
    _tool(
        "memory_finish_edits",
        "letta_sleeptime_core",
        "Call this when you have finished editing memory and have nothing more to change.",
        {},
        [],
        _memory_finish_edits,
    ),
)
