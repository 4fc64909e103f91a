"""``insert_new`` writes what a flush writes: given values (even None) as given, defaults where nothing was
given, the database's default where the column has only that, and the actor's organization on owned rows."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from host.domain.actor import Actor, acting_as
from host.ids import new_id, utcnow
from host.persistence.core_insert import insert_new
from host.persistence.db import Database
from host.persistence.models import AgentRow, BlockRow, ToolRow
from host.persistence.tenancy import scope_org

pytestmark = pytest.mark.anyio


def _agent(name: str) -> AgentRow:
    # no timestamps, tool rules, env or flags given: their defaults apply; metadata given as None
    return AgentRow(id=new_id("agent"), name=name, llm_config={"model": "m"}, embedding_config={"model": "e"},
                    metadata_=None, description=None)


def _block(label: str) -> BlockRow:
    return BlockRow(id=new_id("block"), label=label, value="v")  # limit, flags and metadata by default


def _tool(name: str) -> ToolRow:
    return ToolRow(id=new_id("tool"), name=name, source_code="def f(): pass", json_schema={"name": name})


def _columns(row: Any, skip: set[str]) -> dict[str, Any]:
    return {c.key: getattr(row, c.key) for c in row.__mapper__.column_attrs if c.key not in skip}


async def test_rows_written_as_core_inserts_read_back_as_rows_written_by_a_flush(db: Database):
    org = "org-00000000-0000-4000-8000-0000000000c1"
    with acting_as(Actor(user_id="user-c1", organization_id=org, is_admin=True)):
        flushed = [_agent("by-flush"), _block("by-flush"), _tool("by-flush")]
        inserted = [_agent("by-core"), _block("by-core"), _tool("by-core")]
        before = utcnow()

        def write(s: Any) -> None:
            s.add_all(flushed)
            s.flush()
            insert_new(s.connection(), inserted)

        await db.write(write)
        # the objects got what the flush gives its own: defaults and the organization
        for flush_obj, core_obj in zip(flushed, inserted, strict=True):
            assert _columns(core_obj, {"id", "name", "label", "json_schema", "created_at", "updated_at"}) == \
                _columns(flush_obj, {"id", "name", "label", "json_schema", "created_at", "updated_at"})
            assert core_obj.created_at >= before and core_obj.organization_id == org
        assert scope_org() == org

        def read(s: Any) -> list[list[Any]]:
            return [[s.execute(select(type(obj)).where(type(obj).id == obj.id)).scalar_one()
                     for obj in objs] for objs in (flushed, inserted)]

        by_flush, by_core = await db.read(read)
    skip = {"id", "name", "label", "json_schema", "created_at", "updated_at"}
    for a, b in zip(by_flush, by_core, strict=True):
        assert _columns(a, skip) == _columns(b, skip)
    agent = by_core[0]
    assert agent.tool_rules == [] and agent.message_ids == [] and agent.tool_exec_env == {}
    assert agent.prompt_stale is False and agent.organization_id == org and agent.metadata_ is None
    assert by_core[1].limit == 5000 and by_core[1].read_only is False
    assert by_core[2].organization_id == org  # a catalogue row created by a scoped actor is its organization's


async def test_the_system_creates_shared_catalogue_rows_and_default_organization_ones(db: Database):
    tool, agent = _tool("shared"), _agent("system's")
    await db.write(lambda s: insert_new(s.connection(), [tool, agent]))
    rows = await db.read(lambda s: (s.get(ToolRow, tool.id), s.get(AgentRow, agent.id)))
    assert rows[0] is not None and rows[0].organization_id is None
    assert rows[1] is not None and rows[1].organization_id == agent.organization_id is not None
