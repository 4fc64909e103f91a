"""Letta's base tools: send_message, conversation_search and the archival-memory pair.

Search results go back to the model as JSON with timestamps, the page number and a hint
on how to get the next page.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from builtin_tools.ports import PassageHit, RecallHit, ToolContext
from builtin_tools.schemas import BuiltinTool, ToolOutput, make_schema

SEND_MESSAGE_RESULT = "Sent message successfully."


def _timestamp(value: datetime | str | None) -> str | None:
    if value is None:
        return None
    if isinstance(value, datetime):
        return value.isoformat(timespec="seconds")
    return str(value)


def _page_report(kind: str, query: str, page: int, items: list[dict[str, Any]], page_size: int) -> str:
    if not items:
        note = (
            f"No {kind} results for {query!r} on page {page}."
            if page == 0
            else f"No more {kind} results for {query!r}: page {page} is empty (earlier pages held the rest)."
        )
        return json.dumps({"query": query, "page": page, "count": 0, "results": [], "note": note}, ensure_ascii=False)
    more = len(items) >= page_size
    note = (
        f"Showing {len(items)} result(s) on page {page}. More may exist: call again with page={page + 1}."
        if more
        else f"Showing {len(items)} result(s) on page {page}; this is the last page."
    )
    payload = {"query": query, "page": page, "count": len(items), "results": items, "note": note}
    return json.dumps(payload, ensure_ascii=False, indent=1)


async def _send_message(args: dict[str, Any], ctx: ToolContext) -> ToolOutput:
    # The loop turns the call itself into an assistant message; the return is a formality.
    return ToolOutput.success(SEND_MESSAGE_RESULT)


async def _conversation_search(args: dict[str, Any], ctx: ToolContext) -> ToolOutput:
    query: str = args["query"]
    page = args.get("page") or 0
    if page < 0:
        return ToolOutput.error(f"page must be 0 or more, got {page}.")
    hits: list[RecallHit] = await ctx.recall.search(query, page, None, None, None)
    items = [{"timestamp": _timestamp(h.created_at), "role": h.role, "content": h.text} for h in hits]
    return ToolOutput.success(_page_report("conversation", query, page, items, ctx.services.page_size))


async def _archival_memory_insert(args: dict[str, Any], ctx: ToolContext) -> ToolOutput:
    content: str = args["content"]
    if not content.strip():
        return ToolOutput.error("content is empty: give the text to store in archival memory.")
    passage_id = await ctx.archival.insert(content, None)
    return ToolOutput.success(f"Stored in archival memory (passage id {passage_id}).")


async def _archival_memory_search(args: dict[str, Any], ctx: ToolContext) -> ToolOutput:
    query: str = args["query"]
    page = args.get("page") or 0
    start = args.get("start") or 0
    if page < 0 or start < 0:
        return ToolOutput.error(f"page and start must be 0 or more, got page={page}, start={start}.")
    size = ctx.services.page_size
    hits: list[PassageHit] = await ctx.archival.search(query, page, None, size + start)
    window = hits[start : start + size]
    items = []
    for hit in window:
        item: dict[str, Any] = {"timestamp": _timestamp(hit.created_at), "content": hit.text}
        if hit.source:
            item["source"] = hit.source
        if hit.score is not None:
            item["score"] = round(hit.score, 4)
        items.append(item)
    return ToolOutput.success(_page_report("archival memory", query, page, items, size))


_QUERY = {"type": "string", "description": "String to search for."}
_PAGE = {
    "type": "integer",
    "description": "Allows you to page through results. Only use on a follow-up query. Defaults to 0 (first page).",
}
_CONTENT = {
    "type": "string",
    "description": "Content to write to the memory. All unicode (including emojis) are supported.",
}


def _core(name: str, description: str, props: dict, required: list[str], impl, heartbeat: bool = True) -> BuiltinTool:
    return BuiltinTool(
        name=name,
        tool_type="letta_core",
        tags=("letta_core",),
        description=description,
        json_schema=make_schema(name, description, props, required),
        impl=impl,
        heartbeat=heartbeat,
    )


SEARCH_TOOLS: tuple[BuiltinTool, ...] = (
    _core(
        "send_message",
        "Sends a message to the human user.",
        {"message": {"type": "string", "description": "Message contents. All unicode (including emojis) are supported."}},
        ["message"],
        _send_message,
        heartbeat=False,
    ),
    _core(
        "conversation_search",
        "Search prior conversation history using case-insensitive string matching.",
        {"query": _QUERY, "page": _PAGE},
        ["query"],
        _conversation_search,
    ),
    _core(
        "archival_memory_insert",
        "Add to archival memory. Make sure to phrase the memory contents such that it can be easily queried later.",
        {"content": _CONTENT},
        ["content"],
        _archival_memory_insert,
    ),
    _core(
        "archival_memory_search",
        "Search archival memory using semantic (embedding-based) search.",
        {
            "query": _QUERY,
            "page": _PAGE,
            "start": {"type": "integer", "description": "Starting index for the search results. Defaults to 0."},
        },
        ["query"],
        _archival_memory_search,
    ),
)
