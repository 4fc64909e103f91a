"""An ``AgentState`` as a 1.x client sees it: relationships left out unless ``include`` asks for them.

Letta 0.16 answers ``GET /v1/agents/{id}`` and ``GET /v1/agents/`` with empty ``blocks``, ``tools``,
``tags``, ``memory.blocks``... unless the request names them (``include=agent.blocks&include=agent.tools``).
Create and update answers carry everything. 1.x also has a top-level ``blocks`` (the core-memory blocks).
"""

from __future__ import annotations

from typing import Any

from host.schemas.agents import AgentState
from host.schemas.common import dump

# include value -> the fields it fills (everything else listed here is emptied)
RELATIONSHIPS: dict[str, tuple[str, ...]] = {
    "agent.blocks": ("blocks", "memory.blocks"),
    "agent.tools": ("tools",),
    "agent.tags": ("tags",),
    "agent.sources": ("sources",),
    "agent.identities": ("identities", "identity_ids"),
    "agent.secrets": ("secrets", "tool_exec_environment_variables"),
    "agent.tool_exec_environment_variables": ("tool_exec_environment_variables",),
    "agent.managed_group": ("managed_group", "multi_agent_group"),
}
_EMPTY_AS_NONE = {"managed_group", "multi_agent_group"}


def full_v1(state: AgentState) -> dict[str, Any]:
    """Every relationship filled, with the 1.x spellings added."""
    out = dump(state)
    memory = out.get("memory") or {}
    out.setdefault("blocks", list(memory.get("blocks") or []))
    out.setdefault("secrets", list(out.get("tool_exec_environment_variables") or []))
    out.setdefault("identities", [])
    out.setdefault("managed_group", out.get("multi_agent_group"))
    return out


def v1_agent(state: AgentState, include: list[str] | None) -> dict[str, Any]:
    """The agent with only the requested relationships (``include``; ``None`` means none)."""
    out = full_v1(state)
    wanted = {field for name in include or [] for field in RELATIONSHIPS.get(name, ())}
    for fields in RELATIONSHIPS.values():
        for field in fields:
            if field in wanted:
                continue
            if field == "memory.blocks":
                if isinstance(out.get("memory"), dict):
                    out["memory"] = {**out["memory"], "blocks": []}
            elif field in _EMPTY_AS_NONE:
                out[field] = None
            elif field in out:
                out[field] = []
    return out
