"""Read answers given again while the database has not changed at all (``host.services.answer_cache``): on
SQLite a GET of one agent and a list are answered again only while no connection, of this process or of
another, has committed anything to the file since; the cache stays within its bounds."""

from __future__ import annotations

import subprocess
import sys
import uuid

import pytest
from sqlalchemy import update

from builtin_tools import all_builtins
from host.llm.providers import ProviderSettings
from host.llm.registry import ProviderRegistry
from host.persistence.db import Database, sqlite_file
from host.persistence.models import AgentRow
from host.schemas.agents import CreateAgentRequest
from host.services.agents import AgentService
from host.services.answer_cache import AnswerCache
from host.services.tools import ToolService
from tests.support.scripted_llm import ScriptedLLM

pytestmark = pytest.mark.anyio


def test_an_answer_is_given_again_only_at_its_stamp_and_the_cache_keeps_its_bounds() -> None:
    cache: AnswerCache[str] = AnswerCache(max_entries=2, max_items=5)
    cache.put("a", (1, 7), ["x", "y"])
    assert cache.get("a", (1, 7)) == ["x", "y"]
    assert cache.get("a", (1, 8)) is None  # the database changed since
    assert cache.get("a", (2, 7)) is None  # another read connection: its own count
    assert cache.get("a", None) is None  # no stamp (Postgres): never
    cache.put("b", (1, 7), ["z"])
    cache.put("c", (1, 7), ["w"])  # a third entry: the least recently used ("a") goes
    assert cache.get("a", (1, 7)) is None and cache.stats.entries == 2
    cache.put("d", (1, 7), ["1", "2", "3", "4"])  # 1 + 1 + 4 items > 5: the oldest go until it fits
    stats = cache.stats
    assert stats.items <= 5 and stats.entries <= 2 and cache.get("d", (1, 7)) == ["1", "2", "3", "4"]
    cache.put("e", (1, 7), ["i"] * 6)  # larger than the whole bound: not kept
    assert cache.get("e", (1, 7)) is None and cache.stats.items <= 5


async def _agents(db: Database, llm: ScriptedLLM) -> tuple[AgentService, str]:
    await ToolService(db).sync_builtins(all_builtins())
    registry = ProviderRegistry(ProviderSettings(openai_api_key="sk-test", openai_api_base=llm.base_url))
    agents = AgentService(db, registry)
    state, _ = await agents.create(CreateAgentRequest(
        name=f"a-{uuid.uuid4().hex[:8]}", model="openai-proxy/answers", embedding="openai/text-embedding-3-small"))
    return agents, state.id


async def test_answers_are_given_again_until_any_connection_or_process_commits(db: Database,
                                                                               scripted_llm: ScriptedLLM) -> None:
    agents, agent_id = await _agents(db, scripted_llm)
    first_list, first_one = await agents.list(limit=50), await agents.get(agent_id)
    hits = agents.answers.stats.hits
    assert await agents.list(limit=50) == first_list and await agents.get(agent_id) is first_one
    if db.is_postgres:  # no stamp there: every read reads
        assert agents.answers.stats.hits == hits
        return
    assert agents.answers.stats.hits == hits + 2  # nothing changed: both answered again
    assert (await agents.list(limit=49)) == first_list and agents.answers.stats.hits == hits + 2  # another question

    # A commit through another connection of this process, bypassing every service.
    async with db.transaction() as s:
        await s.execute(update(AgentRow).where(AgentRow.id == agent_id).values(description="changed here"))
    assert [a.description for a in await agents.list(limit=50)] == ["changed here"]
    assert (await agents.get(agent_id)).description == "changed here"

    # A commit by another process (the sqlite3 command-line module, not this server's code).
    path = sqlite_file(db.engine)
    assert path is not None
    # (as every writer of this server does, it moves the row's updated_at: the views' version key)
    script = ("import datetime, sqlite3, sys; c = sqlite3.connect(sys.argv[1]); "
              "now = datetime.datetime.now(datetime.timezone.utc).strftime('%Y-%m-%d %H:%M:%S.%f'); "
              "c.execute(\"UPDATE agents SET description = 'changed elsewhere', updated_at = ? WHERE id = ?\", "
              "(now, sys.argv[2])); c.commit()")
    subprocess.run([sys.executable, "-c", script, path, agent_id], check=True, timeout=60)
    assert [a.description for a in await agents.list(limit=50)] == ["changed elsewhere"]
    assert (await agents.get(agent_id)).description == "changed elsewhere"
