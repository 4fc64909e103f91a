"""The agent-view cache in process, on the suite's database: reused while the version key holds, bounded."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import update

from builtin_tools import all_builtins
from host.llm.providers import ProviderSettings
from host.llm.registry import ProviderRegistry
from host.persistence.db import Database
from host.persistence.models import BlockRow
from host.schemas.agents import CreateAgentRequest
from host.schemas.blocks import CreateBlock
from host.services.agents import AgentService
from host.services.tools import ToolService
from host.services.view_cache import AgentViewCache
from tests.support.scripted_llm import ScriptedLLM

pytestmark = pytest.mark.anyio


async def _service(db: Database, llm: ScriptedLLM, max_entries: int) -> AgentService:
    await ToolService(db).sync_builtins(all_builtins())
    registry = ProviderRegistry(ProviderSettings(openai_api_key="sk-test", openai_api_base=llm.base_url))
    return AgentService(db, registry, views=AgentViewCache(max_entries=max_entries))


async def _agent(agents: AgentService, tags: list[str] | None = None) -> str:
    state, _ = await agents.create(CreateAgentRequest(
        name=f"v-{uuid.uuid4().hex[:8]}", model="openai-proxy/view-cache", embedding="openai/text-embedding-3-small",
        memory_blocks=[CreateBlock(label="human", value="Name: Ada")], tags=tags))
    return state.id


async def test_a_view_is_reused_until_a_write_elsewhere_changes_its_key(db: Database, scripted_llm: ScriptedLLM):
    agents = await _service(db, scripted_llm, max_entries=8)
    agent_id = await _agent(agents)
    first = await agents.get(agent_id)
    hits = agents.views.stats.hits + agents.answers.stats.hits
    assert await agents.get(agent_id) is first  # nothing changed: the same view, not built again
    # (SQLite: the database has not changed at all, the answer is given again; Postgres: the key is the same)
    assert agents.views.stats.hits + agents.answers.stats.hits == hits + 1

    # a write that bypasses every service (as another process would): the block's row only
    block_id = first.memory.blocks[0].id
    async with db.transaction() as s:
        await s.execute(update(BlockRow).where(BlockRow.id == block_id).values(value="Name: Grace"))
    again = await agents.get(agent_id)
    assert again is not first and again.memory.blocks[0].value == "Name: Grace"


async def test_the_cache_never_holds_more_than_its_bound(db: Database, scripted_llm: ScriptedLLM):
    agents = await _service(db, scripted_llm, max_entries=3)
    ids = [await _agent(agents) for _ in range(5)]
    listed = await agents.list(limit=50)
    assert sorted(a.id for a in listed) == sorted(ids)
    assert agents.views.stats.entries == 3
    for agent_id in ids:
        assert (await agents.get(agent_id)).id == agent_id
        assert agents.views.stats.entries <= 3
    # the three most recently read stay: reading them again builds nothing
    misses = agents.views.stats.misses
    for agent_id in ids[-3:]:
        await agents.get(agent_id)
    assert agents.views.stats.misses == misses and agents.views.stats.entries == 3


async def test_a_new_agent_s_view_is_cached_at_create_on_sqlite_as_a_read_would_build_it(
        db: Database, scripted_llm: ScriptedLLM):
    agents = await _service(db, scripted_llm, max_entries=8)
    agent_id = await _agent(agents, tags=["zeta", "alpha"])
    seeded = await agents.get(agent_id)
    stats = agents.views.stats
    # SQLite: the create's transaction is one snapshot, its view is cached; Postgres: the first read builds it
    assert (stats.hits, stats.misses) == ((0, 1) if db.is_postgres else (1, 0))

    fresh = await (await _service(db, scripted_llm, max_entries=8)).get(agent_id)  # an empty cache: built
    assert seeded.model_dump() == fresh.model_dump()
    assert fresh.tags == ["alpha", "zeta"]
