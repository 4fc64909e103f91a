"""Letta's ``web_search`` tool through tavily-python.

The schema is Letta 0.8.17's (``tasks: [{query, question}]``, ``limit``, ``return_raw``).
Each task runs one Tavily search (the sync SDK in a worker thread, bounded by
``services.http_timeout_s``); results come back as readable text per task. The key is
``TAVILY_API_KEY`` from ``ctx.env``; the base URL from ``ctx.services.tavily_base_url``.
The SDK (with requests and tiktoken) is imported on the first search, in the worker thread.
"""

from __future__ import annotations

import logging
from typing import Any

import anyio
import anyio.to_thread

from builtin_tools.ports import ToolContext
from builtin_tools.schemas import BuiltinTool, ToolOutput, make_schema

logger = logging.getLogger(__name__)

TAVILY_KEY_VAR = "TAVILY_API_KEY"
DEFAULT_LIMIT = 3
MAX_LIMIT = 10
_SNIPPET_CHARS = 600
_RAW_CHARS = 4000

NO_KEY_MESSAGE = (
    "web_search is not configured: no TAVILY_API_KEY is set for this agent or server. "
    "Tell the user web search is unavailable (an administrator can set TAVILY_API_KEY), "
    "and answer from what you already know."
)


def _clip(text: str, limit: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _format_task(index: int, task: dict[str, str], response: dict[str, Any], return_raw: bool) -> str:
    lines = [f"Task {index}: query={task['query']!r}", f"Question: {task['question']}"]
    answer = response.get("answer")
    if answer:
        lines.append(f"Answer summary: {answer}")
    results = response.get("results") or []
    if not results:
        lines.append("No results found.")
    for n, item in enumerate(results, start=1):
        lines.append(f"{n}. {item.get('title') or '(untitled)'}")
        lines.append(f"   URL: {item.get('url', '')}")
        if item.get("content"):
            lines.append(f"   Snippet: {_clip(str(item['content']), _SNIPPET_CHARS)}")
        if return_raw and item.get("raw_content"):
            lines.append(f"   Raw content: {_clip(str(item['raw_content']), _RAW_CHARS)}")
    return "\n".join(lines)


def _search_sync(
    key: str, base_url: str | None, query: str, limit: int, return_raw: bool, timeout_s: float
) -> dict[str, Any]:
    from tavily import TavilyClient

    # One client (one requests.Session) per search: sessions are not shared across threads.
    raw: dict[str, Any] = {"include_raw_content": True} if return_raw else {}  # omitted = the SDK's default
    with TavilyClient(api_key=key, api_base_url=base_url) as client:
        return client.search(query, max_results=limit, timeout=timeout_s, **raw)


def _describe_failure(err: Exception) -> str | None:
    """What went wrong, for the model; None for an exception that is not a search failure."""
    # Imported here: the SDK is loaded by the first search, in its worker thread.
    import requests
    from tavily.errors import BadRequestError, ForbiddenError, InvalidAPIKeyError, UsageLimitExceededError
    from tavily.errors import TimeoutError as TavilyTimeoutError

    if isinstance(err, InvalidAPIKeyError):
        return "the configured TAVILY_API_KEY was rejected (invalid key)"
    if isinstance(err, UsageLimitExceededError):
        return "the Tavily usage limit is exceeded; try again later"
    if isinstance(err, ForbiddenError):
        return "Tavily refused the request (forbidden)"
    if isinstance(err, BadRequestError):
        return f"Tavily rejected the query as invalid ({err})"
    if isinstance(err, (TavilyTimeoutError, TimeoutError)):
        return "the search timed out"
    if isinstance(err, (requests.RequestException, ValueError)):
        return f"the search service failed ({type(err).__name__}: {err})"
    return None


async def _web_search(args: dict[str, Any], ctx: ToolContext) -> ToolOutput:
    key = ctx.env.get(TAVILY_KEY_VAR, "").strip()
    if not key:
        return ToolOutput.error(NO_KEY_MESSAGE)
    tasks: list[dict[str, Any]] = [dict(t) if isinstance(t, dict) else t for t in args["tasks"]]
    if not tasks:
        return ToolOutput.error("tasks is empty: give at least one {query, question} task.")
    for i, task in enumerate(tasks, start=1):
        if not isinstance(task, dict) or not isinstance(task.get("query"), str) or not task["query"].strip():
            return ToolOutput.error(f"task {i} needs a non-empty string 'query' (and a 'question').")
        task.setdefault("question", task["query"])
    limit = DEFAULT_LIMIT if args.get("limit") is None else args["limit"]
    if limit <= 0:
        return ToolOutput.error(f"limit must be greater than 0, got {limit}.")
    limit = min(limit, MAX_LIMIT)
    return_raw = bool(args.get("return_raw"))
    timeout_s = ctx.services.http_timeout_s

    base_url = ctx.services.tavily_base_url
    sections: list[str] = [""] * len(tasks)
    failures: list[str] = []

    async def run(i: int, task: dict[str, str]) -> None:
        try:
            with anyio.fail_after(timeout_s + 1):
                response = await anyio.to_thread.run_sync(
                    _search_sync, key, base_url, task["query"], limit, return_raw, timeout_s, abandon_on_cancel=True
                )
        except Exception as err:
            failure = _describe_failure(err)
            if failure is None:
                raise
            logger.warning("web_search task %d for agent %s failed: %s", i, ctx.agent_id, err)
            failures.append(f"Task {i} ({task['query']!r}): {failure}")
            sections[i - 1] = f"Task {i}: query={task['query']!r}\nSearch failed: {failure}."
            return
        sections[i - 1] = _format_task(i, task, response, return_raw)

    async with anyio.create_task_group() as tg:
        for i, task in enumerate(tasks, start=1):
            tg.start_soon(run, i, task)
    text = "\n\n".join(sections)
    if len(failures) == len(tasks):
        return ToolOutput.error("web_search failed: " + "; ".join(failures))
    return ToolOutput.success(text)


WEB_SEARCH_DESCRIPTION = (
    "Search the web. Give one or more tasks, each a search query plus the question you want the "
    "results to answer; returns the title, URL and a content snippet of the top results per task."
)

WEB_SEARCH_TOOL = BuiltinTool(
    name="web_search",
    tool_type="letta_builtin",
    tags=("letta_builtin",),
    description=WEB_SEARCH_DESCRIPTION,
    json_schema=make_schema(
        "web_search",
        WEB_SEARCH_DESCRIPTION,
        {
            "tasks": {
                "type": "array",
                "items": {
                    "type": "object",
                    "properties": {
                        "query": {"type": "string", "description": "Search query for web search"},
                        "question": {
                            "type": "string",
                            "description": "Question to answer from search results, considering full conversation context",
                        },
                    },
                    "required": ["query", "question"],
                },
                "description": "A list of search tasks, each containing a `query` and a corresponding `question`.",
            },
            "limit": {
                "type": "integer",
                "description": "Maximum number of URLs to fetch and analyse per task (must be > 0). Defaults to 3.",
            },
            "return_raw": {
                "type": "boolean",
                "description": "If set to True, returns the raw content of the web pages.\n"
                "This should be False unless otherwise specified by the user. Defaults to False.",
            },
        },
        ["tasks"],
    ),
    impl=_web_search,
)
