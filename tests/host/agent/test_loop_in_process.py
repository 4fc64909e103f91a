"""The agent loop in this process, without a server: a real database (SQLite file, or Postgres when the
suite runs on it), real litellm over HTTP to the scripted model, the real dispatcher and rule solver, and
in-memory implementations of the loop's tool ports (archival and recall memory) — what
``host.wiring`` injects from the services in the server."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import anyio
import pytest
from sqlalchemy import event, update

from builtin_tools import (
    AgentMessengerPort,
    CoreMemory,
    PassageHit,
    RecallHit,
    ServicesConfig,
    ToolContext,
    all_builtins,
)
from host.agent.locks import AgentLocks
from host.agent.loop import AgentLoop, LoopDeps
from host.agent.runner import Runner
from host.agent.store import load_turn
from host.agent.turn import InputMessage, TurnRequest
from host.domain.events import LettaMessageEvent, StopReasonEvent, TurnEvent, UsageEvent
from host.domain.letta import AssistantMessage, ToolReturnMessage
from host.errors import NotFoundError
from host.ids import utcnow
from host.llm import aclose_clients
from host.llm.providers import ProviderSettings
from host.llm.registry import ProviderRegistry
from host.persistence.db import Database
from host.persistence.models import BlockRow
from host.schemas.agents import CreateAgentRequest
from host.schemas.blocks import CreateBlock
from host.schemas.messages import LettaStreamingRequest, MessageCreate
from host.services.agents import AgentService
from host.services.runs import RunService
from host.services.tools import ToolService
from host.tools.calls import ToolCaller, ToolScope
from host.tools.dispatcher import ToolDispatcher
from host.tools.sources.custom import SandboxRouter
from tests.support.scripted_llm import ScriptedLLM, ScriptQueue

pytestmark = pytest.mark.anyio


# ---- in-memory ports ---------------------------------------------------------------------------
@dataclass
class MemoryArchival:
    passages: list[tuple[str, list[str] | None]] = field(default_factory=list)

    async def insert(self, text: str, tags: list[str] | None) -> str:
        self.passages.append((text, tags))
        return f"passage-{len(self.passages)}"

    async def search(self, query: str, page: int, tags: list[str] | None, top_k: int) -> list[PassageHit]:
        return [PassageHit(text=t, created_at=None, source=None, score=1.0) for t, _ in self.passages if query in t]


class NoRecall:
    async def search(self, query: str, page: int, roles: list[str] | None, start_date: datetime | None,
                     end_date: datetime | None) -> list[RecallHit]:
        return []


@dataclass
class InMemoryContexts:
    """A ``ToolContextFactory`` over in-memory archival and recall."""

    archival: MemoryArchival = field(default_factory=MemoryArchival)

    def for_agent(self, scope: ToolScope, memory: CoreMemory, *, call_depth: int = 0,
                  messenger: AgentMessengerPort | None = None) -> ToolContext:
        return ToolContext(agent_id=scope.agent_id, agent_name=scope.agent_name, memory=memory,
                           archival=self.archival, recall=NoRecall(), messenger=messenger, env=dict(scope.env),
                           services=ServicesConfig(), call_depth=call_depth)

    def unscoped(self) -> ToolContext:
        return ToolContext(agent_id="", agent_name="", memory=CoreMemory.of([]), archival=self.archival,
                           recall=NoRecall())


# ---- fixtures ----------------------------------------------------------------------------------
@dataclass
class Rig:
    db: Database
    loop: AgentLoop
    contexts: InMemoryContexts
    agents: AgentService
    script: ScriptQueue
    handle: str
    llm: ScriptedLLM

    @property
    def model(self) -> str:
        return self.handle.removeprefix("openai-proxy/")

    async def agent(self) -> str:
        state, _ = await self.agents.create(CreateAgentRequest(
            name=f"a-{uuid.uuid4().hex[:8]}", model=self.handle, embedding="openai/text-embedding-3-small",
            memory_blocks=[CreateBlock(label="human", value="Name: Ada"),
                           CreateBlock(label="persona", value="A careful assistant.")]))
        return state.id


@pytest.fixture
async def rig(db: Database, scripted_llm: ScriptedLLM) -> AsyncIterator[Rig]:
    providers = ProviderSettings(openai_api_key="sk-test", openai_api_base=scripted_llm.base_url)
    await ToolService(db).sync_builtins(all_builtins())
    contexts = InMemoryContexts()
    dispatcher = ToolDispatcher(SandboxRouter())  # built-in tools only here: no sandbox is started
    loop = AgentLoop(LoopDeps(db=db, providers=providers, tools=ToolCaller(dispatcher, contexts),
                              locks=AgentLocks(db), llm_timeout_s=30))
    name = f"inproc-{uuid.uuid4().hex[:10]}"
    yield Rig(db=db, loop=loop, contexts=contexts, agents=AgentService(db, ProviderRegistry(providers)),
              script=scripted_llm.for_model(name), handle=f"openai-proxy/{name}", llm=scripted_llm)
    await aclose_clients()  # the pooled HTTP clients of this test's event loop, as a server's shutdown closes them


def turn(agent_id: str, text: str, **extra: Any) -> TurnRequest:
    return TurnRequest(agent_id=agent_id, messages=[InputMessage(role="user", text=text)], **extra)


# ---- tests -------------------------------------------------------------------------------------
async def test_a_turn_runs_the_models_tool_call_and_writes_the_step(rig: Rig) -> None:
    agent_id = await rig.agent()
    rig.script.push_tool_call("send_message", {"message": "Hello Ada!"}, reasoning="greet her")

    result = await rig.loop.run(turn(agent_id, "hi"))

    assert result.stop_reason == "end_turn" and result.usage.step_count == 1
    assert [m.content for m in result.messages if isinstance(m, AssistantMessage)] == ["Hello Ada!"]
    loaded = await load_turn(rig.db, agent_id)
    texts = [m.text for m in loaded.history if m.role == "user"]
    assert "hi" in texts  # the user's message and the step are stored together
    assert any(c.name == "send_message" for m in loaded.history for c in m.tool_calls)


async def test_the_loop_emits_typed_events_in_the_order_of_its_result(rig: Rig) -> None:
    agent_id = await rig.agent()
    rig.script.push_tool_call("send_message", {"message": "done"}, reasoning="answer")
    seen: list[LettaMessageEvent] = []

    async def emit(event: LettaMessageEvent) -> None:
        seen.append(event)

    result = await rig.loop.run(turn(agent_id, "hi"), emit)

    assert all(isinstance(e, LettaMessageEvent) for e in seen)
    assert [e.message for e in seen] == result.messages
    assert [m.content for m in result.messages if isinstance(m, AssistantMessage)] == ["done"]


async def test_tools_reach_memory_through_the_injected_context_factory(rig: Rig) -> None:
    agent_id = await rig.agent()
    rig.script.push_tool_call("archival_memory_insert", {"content": "Ada likes tea", "request_heartbeat": True})
    rig.script.push_tool_call("send_message", {"message": "noted"})

    result = await rig.loop.run(turn(agent_id, "remember: tea"))

    assert rig.contexts.archival.passages == [("Ada likes tea", None)]
    returns = [m for m in result.messages if isinstance(m, ToolReturnMessage)]
    assert returns[0].status == "success" and result.usage.step_count == 2


async def test_the_runner_streams_typed_events_and_closes_the_run(rig: Rig) -> None:
    """The run ledger is the real RunService: the loop closes the run in the same transaction as its
    last step, so the ledger and the step store share the database by design."""
    agent_id = await rig.agent()
    ledger = RunService(rig.db)

    async def exists(agent: str) -> None:
        if agent != agent_id:
            raise NotFoundError.for_id("Agent", agent)

    runner = Runner(rig.loop, ledger, exists, rig.db)
    rig.script.push_tool_call("send_message", {"message": "streamed"})
    events: list[TurnEvent] = []
    with anyio.fail_after(30):
        async with runner.running():
            stream = await runner.stream(agent_id, LettaStreamingRequest(
                messages=[MessageCreate(role="user", content="hi")]))
            async for event in stream:
                events.append(event)

    assert isinstance(events[-2], StopReasonEvent) and events[-2].stop_reason == "end_turn"
    assert isinstance(events[-1], UsageEvent) and events[-1].usage.step_count == 1
    contents = [e.message.content for e in events
                if isinstance(e, LettaMessageEvent) and isinstance(e.message, AssistantMessage)]
    assert "streamed" in contents
    (run,) = await ledger.list(agent_ids=[agent_id])
    assert (run["status"], run["stop_reason"]) == ("completed", "end_turn")


@dataclass
class EditingArchival(MemoryArchival):
    """An archival insert that also edits a memory block in the database, as another agent sharing the block
    would while this turn's tool runs."""

    db: Database | None = None
    block_id: str = ""

    async def insert(self, text: str, tags: list[str] | None) -> str:
        assert self.db is not None
        table = BlockRow.__table__
        await self.db.write(lambda s: s.execute(update(table).where(table.c.id == self.block_id)
                                                .values(value="Name: Ada, edited elsewhere", updated_at=utcnow())))
        return await super().insert(text, tags)


async def test_a_later_step_sees_what_was_written_while_the_step_before_ran_in_one_unit_fewer(rig: Rig) -> None:
    """The second step's refresh (blocks, memory counts, cancellation) is read by the first step's write, in its
    transaction (SQLite: three transactions for a two-step turn, not four), and still sees a block edited from
    elsewhere while the first step's tool ran."""
    agent_id = await rig.agent()
    state = await rig.agents.get(agent_id)
    human = next(b.id for b in state.memory.blocks if b.label == "human")
    rig.contexts.archival = EditingArchival(db=rig.db, block_id=human)
    rig.script.push_tool_call("archival_memory_insert", {"content": "Ada likes tea", "request_heartbeat": True})
    rig.script.push_tool_call("send_message", {"message": "noted"})
    begun: list[str] = []

    def note(conn, cursor, statement, parameters, context, executemany) -> None:
        if statement.strip().upper().startswith("BEGIN"):
            begun.append(statement)

    engines = rig.db.engines()
    for engine in engines:
        event.listen(engine, "before_cursor_execute", note)
    try:
        result = await rig.loop.run(turn(agent_id, "remember: tea"))
    finally:
        for engine in engines:
            event.remove(engine, "before_cursor_execute", note)

    assert result.usage.step_count == 2
    first, second = rig.llm.requests_for(rig.model)[-2:]
    assert "edited elsewhere" not in first["messages"][0]["content"]
    assert "Name: Ada, edited elsewhere" in second["messages"][0]["content"]  # the system prompt of step two
    if rig.db.units.engines():  # SQLite: the turn's load, then one write per step (the tool's edit is its own)
        assert len(begun) == 4, begun
