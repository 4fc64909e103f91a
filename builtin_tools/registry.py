"""The catalogue of built-in tools, looked up by name."""

from __future__ import annotations

from builtin_tools.fetch_webpage import FETCH_WEBPAGE_TOOL
from builtin_tools.memory_tools import MEMORY_TOOLS
from builtin_tools.multi_agent import MULTI_AGENT_TOOLS
from builtin_tools.run_code import RUN_CODE_TOOL
from builtin_tools.schemas import BuiltinTool
from builtin_tools.search import SEARCH_TOOLS
from builtin_tools.web_search import WEB_SEARCH_TOOL

_ALL: tuple[BuiltinTool, ...] = (
    *SEARCH_TOOLS,
    *MEMORY_TOOLS,
    *MULTI_AGENT_TOOLS,
    WEB_SEARCH_TOOL,
    RUN_CODE_TOOL,
    FETCH_WEBPAGE_TOOL,
)
_BY_NAME: dict[str, BuiltinTool] = {tool.name: tool for tool in _ALL}


def get_builtin(name: str) -> BuiltinTool | None:
    """The built-in tool called ``name``, or None."""
    return _BY_NAME.get(name)


def all_builtins() -> tuple[BuiltinTool, ...]:
    """Every built-in tool, base tools first."""
    return _ALL
