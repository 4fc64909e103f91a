"""The tool cache behind agent views and creates, on the suite's database: the tools agents share are read whole
once per version; a tool changed (even by a write that rolled back) is shown as committed; bounded."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import update

from builtin_tools import all_builtins
from host.llm.providers import ProviderSettings
from host.llm.registry import ProviderRegistry
from host.persistence.db import Database
from host.persistence.models import AgentRow, ToolRow
from host.schemas.agents import CreateAgentRequest
from host.schemas.tools import ToolCreate, ToolUpdate
from host.services.agent_view import hydrate
from host.services.agents import AgentService
from host.services.tool_cache import ToolCache
from host.services.tools import ToolService
from host.services.view_cache import AgentViewCache
from tests.support.scripted_llm import ScriptedLLM

pytestmark = pytest.mark.anyio

SOURCE = "def probe_{tag}(x: int) -> int:\n    \"\"\"Probe.\n\n    Args:\n        x (int): a number\n    \"\"\"\n    return x\n"


async def _services(db: Database, llm: ScriptedLLM, cache: ToolCache) -> tuple[AgentService, ToolService]:
    tools = ToolService(db)
    await tools.sync_builtins(all_builtins())
    registry = ProviderRegistry(ProviderSettings(openai_api_key="sk-test", openai_api_base=llm.base_url))
    return AgentService(db, registry, views=AgentViewCache(tools=cache)), tools


async def _create(agents: AgentService, tool_ids: list[str] | None = None) -> str:
    state, _ = await agents.create(CreateAgentRequest(
        name=f"t-{uuid.uuid4().hex[:8]}", model="openai-proxy/tool-cache", embedding="openai/text-embedding-3-small",
        tool_ids=tool_ids))
    return state.id


async def test_agents_that_share_tools_read_each_whole_once_per_version(db: Database, scripted_llm: ScriptedLLM):
    cache = ToolCache()
    agents, tools = await _services(db, scripted_llm, cache)
    tag = uuid.uuid4().hex[:8]
    own = await tools.create(ToolCreate(source_code=SOURCE.format(tag=tag)))
    first = await _create(agents, [own.id])
    base_and_own = cache.read_whole
    assert base_and_own == len((await agents.get(first)).tools) > 1  # the base tools and the agent's own

    second = await _create(agents, [own.id])  # the same tools: none read whole again
    listed = {a.id: a for a in await agents.list(limit=1000)}
    assert cache.read_whole == base_and_own
    assert [t.name for t in listed[second].tools] == [t.name for t in listed[first].tools]

    # an edit through the tools service: that tool alone is read whole again, on every agent that has it
    await tools.modify(own.id, ToolUpdate(description="edited"))
    for agent_id in (first, second):
        shown = {t.id: t for t in (await agents.get(agent_id)).tools}
        assert shown[own.id].description == "edited"
    assert cache.read_whole == base_and_own + 1

    # a write that bypasses every service (as another process would): the row only
    async with db.transaction() as s:
        await s.execute(update(ToolRow).where(ToolRow.id == own.id).values(description="elsewhere"))
    assert {t.id: t for t in (await agents.get(first)).tools}[own.id].description == "elsewhere"


async def test_a_tool_written_in_a_transaction_that_rolled_back_is_shown_as_committed(
        db: Database, scripted_llm: ScriptedLLM):
    cache = ToolCache()
    agents, tools = await _services(db, scripted_llm, cache)
    own = await tools.create(ToolCreate(source_code=SOURCE.format(tag=uuid.uuid4().hex[:8]), description="kept"))
    agent_id = await _create(agents, [own.id])

    class Undo(Exception):
        pass

    with pytest.raises(Undo):
        async with db.transaction() as s:
            await s.execute(update(ToolRow).where(ToolRow.id == own.id).values(description="never committed"))
            agent = await s.get(AgentRow, agent_id)
            assert agent is not None
            seen = (await hydrate(s, [agent], tool_cache=cache))[0]
            assert {t.id: t for t in seen.tools}[own.id].description == "never committed"  # its own write
            raise Undo
    assert {t.id: t for t in (await agents.get(agent_id)).tools}[own.id].description == "kept"
    assert {t.id: t for t in (await _create_and_get(agents, own.id)).tools}[own.id].description == "kept"


async def _create_and_get(agents: AgentService, tool_id: str):
    return await agents.get(await _create(agents, [tool_id]))


async def test_the_cache_never_holds_more_than_its_bound_and_agents_are_still_shown_whole(
        db: Database, scripted_llm: ScriptedLLM):
    cache = ToolCache(max_entries=3)
    agents, _ = await _services(db, scripted_llm, cache)
    agent_id = await _create(agents)
    shown = (await agents.get(agent_id)).tools
    assert len(shown) > 3 and len(cache) <= 3
    rebuilt = (await agents.list(limit=1000))
    assert [t.name for t in next(a for a in rebuilt if a.id == agent_id).tools] == [t.name for t in shown]
    assert len(cache) <= 3
    with pytest.raises(ValueError):
        ToolCache(max_entries=0)
