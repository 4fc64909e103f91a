"""Attaching a memory block does the same database work whatever the agent already holds: the same
statements at 10 blocks as at 500 (issue 23's reproduction: attaches slowed from 19 ms at 100 blocks to 382 ms
at 1,805, one query per block). What still grows with the agent is what the answer needs: the whole AgentState
with every block, whose blocks come from the block cache (only the new block is read whole; the others' ids
and versions are read in one narrow statement). The system prompt is not compiled: the attach marks it stale."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from pathlib import Path

import pytest
from sqlalchemy import event

from host.app import open_services
from host.persistence.db import Database
from host.schemas.agents import CreateAgentRequest, UpdateAgent
from host.schemas.blocks import CreateBlock
from host.settings import Settings
from tests import conftest as shared

pytestmark = pytest.mark.anyio

AGENT = {"llm_config": {"model": "gpt-4o-mini", "model_endpoint_type": "openai", "context_window": 32000},
         "embedding_config": {"embedding_model": "x", "embedding_endpoint_type": "openai", "embedding_dim": 8},
         "memory_blocks": []}


_MINE: ContextVar[bool] = ContextVar("attach_under_count", default=False)


@contextmanager
def statements(db: Database) -> Iterator[list[str]]:
    """The statements this task runs inside the block, on any of the database's engines (on SQLite the units
    run on a synchronous engine of their own, in a worker thread that inherits the task's context); the
    server's background work, a lease renewal or a batch poll, runs in other tasks and is not counted."""
    seen: list[str] = []

    def note(conn, cursor, statement, parameters, context, executemany) -> None:
        if _MINE.get():
            seen.append(" ".join(statement.split())[:90])

    engines = db.engines()
    for engine in engines:
        event.listen(engine, "before_cursor_execute", note)
    token = _MINE.set(True)
    try:
        yield seen
    finally:
        _MINE.reset(token)
        for engine in engines:
            event.remove(engine, "before_cursor_execute", note)


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    env = {"HOME": str(tmp_path), "LETTA_DIR": str(tmp_path), "OPENAI_API_KEY": "x",
           "OPENAI_API_BASE": "http://127.0.0.1:9/v1"}
    uri = shared.test_database_uri()
    if uri is not None:
        env["LETTA_PG_URI"] = uri
    return env


async def test_attaching_a_block_costs_the_same_statements_at_10_and_at_500_blocks(env: dict[str, str]) -> None:
    counts = {}
    async with open_services(Settings.from_env(env)) as svc:
        for n in (10, 500):
            state, _ = await svc.agents.create(CreateAgentRequest.model_validate(AGENT))
            ids = [(await svc.blocks.create(CreateBlock(label=f"b{i}", value=f"value {i}"))).id for i in range(n)]
            await svc.agents.modify(state.id, UpdateAgent.model_validate({"block_ids": ids}))
            extra = (await svc.blocks.create(CreateBlock(label="extra", value="one more"))).id
            with statements(svc.db) as seen:
                answer = await svc.agents.attach_block(state.id, extra)
            assert len(answer.memory.blocks) == n + 1 and answer.memory.blocks[-1].id == extra
            counts[n] = seen
    assert any(s.startswith("INSERT INTO agent_blocks") for s in counts[10]), counts[10]  # the attach was seen
    assert counts[10] == counts[500], "\n".join(f"{n}: {s}" for n, s in counts.items())
