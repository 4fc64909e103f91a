"""Assemble ``AgentState`` views for many agents with a fixed number of queries (no lazy loads)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session

from host.persistence.convert import block_out, tool_out
from host.persistence.models import (
    AgentBlockRow,
    AgentRow,
    AgentSourceRow,
    AgentTagRow,
    AgentToolRow,
    BlockRow,
    IdentityAgentRow,
    SourceRow,
    ToolRow,
)
from host.schemas.agents import MASKED, AgentEnvironmentVariable, AgentState
from host.schemas.blocks import Block, Memory
from host.schemas.tools import Tool
from host.services.block_cache import BlockCache, BlockView
from host.services.tool_cache import STAMP as TOOL_STAMP
from host.services.tool_cache import ToolCache
from host.tools.rule_models import dump_tool_rules, parse_tool_rules, with_letta_templates

MEMORY_PROMPT_TEMPLATE = "{% for block in blocks %}<{{ block.label }}>\n{{ block.value }}\n</{{ block.label }}>{% endfor %}"


def env_vars_out(agent: AgentRow) -> list[AgentEnvironmentVariable]:
    """The agent's tool variables with their values masked: they are write-only, like MCP env and header
    values (``"****"``; sending ``"****"`` back in a PATCH keeps the stored value)."""
    return [
        AgentEnvironmentVariable(
            id=v.get("id") or f"agent-env-{key}",
            key=key,
            value=MASKED,
            description=v.get("description"),
            agent_id=agent.id,
            created_at=agent.created_at,
            updated_at=agent.updated_at,
        )
        for key, v in (agent.tool_exec_env or {}).items()
    ]


def rules_out(raw: list[dict[str, Any]]) -> list[dict[str, Any]]:
    try:
        return dump_tool_rules(with_letta_templates(r) for r in parse_tool_rules(raw))
    except Exception:  # stored rules were validated on write; show them raw if a later version disagrees
        return list(raw)


_BLOCK_COLUMNS = tuple(getattr(BlockRow, f) for f in BlockView._fields)


def block_views_of(session: Session, agent_ids: Sequence[str]) -> dict[str, list[BlockView]]:
    """The blocks of each agent, in order (synchronous: async callers use ``session.run_sync``). Read-only."""
    out: dict[str, list[BlockView]] = defaultdict(list)
    if not agent_ids:
        return out
    rows = session.execute(
        select(AgentBlockRow.agent_id, *_BLOCK_COLUMNS)
        .join(BlockRow, BlockRow.id == AgentBlockRow.block_id)
        .where(AgentBlockRow.agent_id.in_(agent_ids))
        .order_by(AgentBlockRow.position, BlockRow.created_at)
    )
    for row in rows.all():
        out[row[0]].append(BlockView._make(row[1:]))
    return out


async def hydrate(session: AsyncSession, agents: Sequence[AgentRow], *, blocks: BlockCache | None = None,
                  tool_cache: ToolCache | None = None) -> list[AgentState]:
    """``hydrate_sync`` from async code; ``blocks``, ``tool_cache``: the process's caches (see ``hydrate_sync``)."""
    return await session.run_sync(lambda s: hydrate_sync(s, agents, blocks=blocks, tool_cache=tool_cache))


# Letta's ``include_relationships`` names (GET /v1/agents): a relation not named is answered empty.
RELATIONSHIPS = frozenset({"memory", "tools", "sources", "tags", "identity_ids", "tool_exec_environment_variables",
                           "multi_agent_group"})


def hydrate_sync(session: Session, agents: Sequence[AgentRow], include: frozenset[str] | None = None, *,
                 blocks: BlockCache | None = None, tool_cache: ToolCache | None = None) -> list[AgentState]:
    """The views of ``agents`` in five queries (synchronous: run whole in a unit of reads, ``Database.read``,
    where on SQLite the queries cost no event-loop/thread hops). ``include`` (names in ``RELATIONSHIPS``)
    limits the relations loaded; None loads all. ``blocks``: the blocks come from this cache, which reads
    whole only the blocks it has not seen at their current version (one statement more, and none of the
    work that grows with the agent's blocks but that statement's rows); None: every block read whole.
    ``tool_cache``: the same for the tools (``ToolCache``)."""
    ids = [a.id for a in agents]
    if not ids:
        return []
    want = RELATIONSHIPS if include is None else include
    shown: dict[str, list[Block]] = defaultdict(list)
    if "memory" in want:
        if blocks is not None:
            shown = blocks.blocks_of(session, ids)
        else:
            shown = defaultdict(list, {a: [block_out(b) for b in bs] for a, bs in block_views_of(session, ids).items()})
    tools: dict[str, list[Tool]] = defaultdict(list)
    if "tools" in want:
        # Agents share most tools (the base tools): each distinct tool is converted once, and with a cache
        # read whole only when this process has not seen it at its current version.
        if tool_cache is not None:
            links = session.execute(select(AgentToolRow.agent_id, AgentToolRow.tool_id, TOOL_STAMP)
                                    .join(ToolRow, ToolRow.id == AgentToolRow.tool_id)
                                    .where(AgentToolRow.agent_id.in_(ids)).order_by(AgentToolRow.position)).all()
            views = tool_cache.views(session, {tool_id: stamp for _, tool_id, stamp in links}.items())
        else:
            links = session.execute(select(AgentToolRow.agent_id, AgentToolRow.tool_id)
                                    .where(AgentToolRow.agent_id.in_(ids)).order_by(AgentToolRow.position)).all()
            distinct = {link[1] for link in links}
            views = {row.id: tool_out(row) for row in session.execute(
                select(ToolRow).where(ToolRow.id.in_(distinct))).scalars()} if distinct else {}
        for agent_id, tool_id, *_ in links:
            if tool_id in views:
                tools[agent_id].append(views[tool_id])
    tags: dict[str, list[str]] = defaultdict(list)
    for agent_id, tag in () if "tags" not in want else (session.execute(
        select(AgentTagRow.agent_id, AgentTagRow.tag).where(AgentTagRow.agent_id.in_(ids)).order_by(AgentTagRow.tag)
    )).all():
        tags[agent_id].append(tag)
    identities: dict[str, list[str]] = defaultdict(list)
    for agent_id, identity_id in () if "identity_ids" not in want else (session.execute(
        select(IdentityAgentRow.agent_id, IdentityAgentRow.identity_id).where(IdentityAgentRow.agent_id.in_(ids))
    )).all():
        identities[agent_id].append(identity_id)
    sources: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for agent_id, source in () if "sources" not in want else (session.execute(
        select(AgentSourceRow.agent_id, SourceRow).join(SourceRow, SourceRow.id == AgentSourceRow.source_id)
        .where(AgentSourceRow.agent_id.in_(ids))
    )).all():
        sources[agent_id].append(source_summary(source))
    return [state_of(a, blocks=shown[a.id], tools=tools[a.id], sources=sources[a.id], tags=tags[a.id],
                     identity_ids=identities[a.id], env="tool_exec_environment_variables" in want)
            for a in agents]


def source_summary(source: SourceRow) -> dict[str, Any]:
    """A source as an agent's view shows it."""
    return {
        "id": source.id, "name": source.name, "description": source.description,
        "instructions": source.instructions, "metadata": source.metadata_,
        "embedding_config": source.embedding_config,
        "created_at": source.created_at.isoformat(), "updated_at": source.updated_at.isoformat(),
    }


def state_of(a: AgentRow, *, blocks: Sequence[Block], tools: Sequence[Tool],
             sources: list[dict[str, Any]], tags: list[str], identity_ids: list[str], env: bool = True) -> AgentState:
    """The view of agent ``a`` from what is linked to it, already read (``hydrate_sync`` reads it for many
    agents; a create has it in hand)."""
    return AgentState(
        id=a.id,
        name=a.name,
        tool_rules=rules_out(a.tool_rules or []),
        message_ids=list(a.message_ids or []),
        system=a.system,
        agent_type=a.agent_type,
        llm_config=a.llm_config,
        embedding_config=a.embedding_config,
        response_format=a.response_format,
        description=a.description,
        metadata=a.metadata_,
        memory=Memory(blocks=list(blocks), prompt_template=MEMORY_PROMPT_TEMPLATE),
        tools=list(tools),
        sources=sources,
        tags=tags,
        tool_exec_environment_variables=env_vars_out(a) if env else [],
        project_id=a.project_id,
        template_id=a.template_id,
        base_template_id=a.base_template_id,
        identity_ids=identity_ids,
        message_buffer_autoclear=a.message_buffer_autoclear,
        enable_sleeptime=a.enable_sleeptime,
        last_run_completion=a.last_run_completion,
        last_run_duration_ms=a.last_run_duration_ms,
        timezone=a.timezone,
        created_at=a.created_at,
        updated_at=a.updated_at,
    )
