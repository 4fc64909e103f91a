"""The block cache behind agent views, on the suite's database: a view built again after an attach reads whole
only the block attached; a block changed (even by a write that rolled back) is shown as committed; bounded."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import update

from builtin_tools import all_builtins
from host.llm.providers import ProviderSettings
from host.llm.registry import ProviderRegistry
from host.persistence.db import Database
from host.persistence.models import AgentRow, BlockRow
from host.schemas.agents import CreateAgentRequest, UpdateAgent
from host.schemas.blocks import CreateBlock
from host.services.agent_view import hydrate
from host.services.agents import AgentService
from host.services.block_cache import BlockCache
from host.services.blocks import BlockService
from host.services.tools import ToolService
from host.services.view_cache import AgentViewCache
from tests.support.scripted_llm import ScriptedLLM

pytestmark = pytest.mark.anyio


async def _agent_with_blocks(db: Database, llm: ScriptedLLM, n: int, cache: BlockCache) -> tuple[AgentService, str]:
    await ToolService(db).sync_builtins(all_builtins())
    registry = ProviderRegistry(ProviderSettings(openai_api_key="sk-test", openai_api_base=llm.base_url))
    agents = AgentService(db, registry, views=AgentViewCache(blocks=cache))
    state, _ = await agents.create(CreateAgentRequest(
        name=f"b-{uuid.uuid4().hex[:8]}", model="openai-proxy/block-cache", embedding="openai/text-embedding-3-small"))
    blocks = BlockService(db)
    ids = [(await blocks.create(CreateBlock(label=f"b{i}", value=f"value {i}"))).id for i in range(n)]
    await agents.modify(state.id, UpdateAgent.model_validate({"block_ids": ids}))
    return agents, state.id


async def test_an_attach_reads_whole_only_the_block_it_attaches(db: Database, scripted_llm: ScriptedLLM):
    cache = BlockCache()
    agents, agent_id = await _agent_with_blocks(db, scripted_llm, 40, cache)
    before = cache.read_whole
    extra = (await BlockService(db).create(CreateBlock(label="extra", value="one more"))).id
    answer = await agents.attach_block(agent_id, extra)
    assert cache.read_whole - before == 1
    assert [b.label for b in answer.memory.blocks] == [f"b{i}" for i in range(40)] + ["extra"]
    assert (await agents.get(agent_id)).memory.blocks == answer.memory.blocks
    assert cache.read_whole - before == 1  # the view read afterwards reads none whole


async def test_a_block_written_in_a_transaction_that_rolled_back_is_shown_as_committed(
        db: Database, scripted_llm: ScriptedLLM):
    cache = BlockCache()
    agents, agent_id = await _agent_with_blocks(db, scripted_llm, 3, cache)
    block_id = (await agents.get(agent_id)).memory.blocks[0].id

    class Undo(Exception):
        pass

    with pytest.raises(Undo):
        async with db.transaction() as s:
            await s.execute(update(BlockRow).where(BlockRow.id == block_id).values(value="never committed"))
            agent = await s.get(AgentRow, agent_id)
            assert agent is not None
            seen = (await hydrate(s, [agent], blocks=cache))[0]
            assert seen.memory.blocks[0].value == "never committed"  # the transaction sees its own write
            raise Undo
    assert (await agents.get(agent_id)).memory.blocks[0].value == "value 0"


async def test_an_agent_with_more_blocks_than_the_bound_is_still_shown_whole(db: Database, scripted_llm: ScriptedLLM):
    cache = BlockCache(max_entries=5)
    agents, agent_id = await _agent_with_blocks(db, scripted_llm, 12, cache)
    extra = (await BlockService(db).create(CreateBlock(label="extra", value="one more"))).id
    answer = await agents.attach_block(agent_id, extra)
    assert [b.label for b in answer.memory.blocks] == [f"b{i}" for i in range(12)] + ["extra"]
    assert len(cache) <= 5
