"""The groups service: what REST and MCP call. Creating, changing and deleting groups (and the sleep-time
agents of ``enable_sleeptime``) keeps the supervisor's tool in step. Which agents have sleep-time agents is
read from the database whenever it matters (nothing cached: another process may change it)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from host.agent.runner import Runner
from host.errors import NotFoundError
from host.persistence.models import AgentBlockRow, AgentRow, AgentToolRow, GroupAgentRow, GroupRow, ToolRow
from host.persistence.tenancy import same_namespace
from host.schemas.agents import AgentState, CreateAgentRequest
from host.schemas.blocks import CreateBlock
from host.schemas.groups import Group, GroupCreate, GroupUpdate, SleeptimeManager
from host.services.agents import AgentService
from host.services.groups.sleeptime import (
    MAIN_AGENT_TOOLS,
    SLEEPTIME_PERSONA,
    SLEEPTIME_TOOLS,
    SLEEPTIME_TYPES,
    SleeptimeWatch,
)
from host.services.groups.store import DEFAULT_FREQUENCY, GroupStore, share_blocks
from host.services.groups.turns import GroupTurns

SUPERVISOR_TOOL = "send_message_to_all_agents_in_group"


class GroupService:
    def __init__(self, db: Any, runner: Runner, agents: AgentService) -> None:
        self.db = db
        self.agents = agents
        self.store = GroupStore(db)
        self.runner = runner
        self.turns = GroupTurns(self.store, runner)
        self.sleeptime = SleeptimeWatch(db, runner)
        runner.observers.append(self.sleeptime.observe)

    async def _attach_tools(self, agent_id: str, names: list[str]) -> None:
        async with self.db.transaction() as s:
            tools = (await s.execute(select(ToolRow).where(ToolRow.name.in_(names), same_namespace(ToolRow))
                                     )).scalars().all()
            have = set((await s.execute(select(AgentToolRow.tool_id).where(AgentToolRow.agent_id == agent_id))).scalars())
            pos = len(have)
            for tool in tools:
                if tool.id not in have:
                    s.add(AgentToolRow(agent_id=agent_id, tool_id=tool.id, position=pos))
                    pos += 1
            agent = await s.get(AgentRow, agent_id)
            if agent is not None:
                from host.ids import utcnow

                agent.updated_at = utcnow()

    async def create(self, req: GroupCreate) -> Group:
        group = await self.store.create(req)
        if group.manager_type == "supervisor" and group.manager_agent_id:
            await self._attach_tools(group.manager_agent_id, [SUPERVISOR_TOOL])
        return group

    async def modify(self, group_id: str, req: GroupUpdate) -> Group:
        before = await self.store.get(group_id)
        group = await self.store.modify(group_id, req)
        if before.manager_agent_id != group.manager_agent_id and group.manager_type == "supervisor" \
                and group.manager_agent_id:
            await self._attach_tools(group.manager_agent_id, [SUPERVISOR_TOOL])
        return group

    async def delete(self, group_id: str) -> None:
        await self.store.delete(group_id)

    # ---- enable_sleeptime --------------------------------------------------------------------------
    async def enable_sleeptime(self, main: AgentState) -> Group:
        """``<name>-sleeptime`` sharing the main agent's blocks (plus its own persona), with the sleep-time
        tools, and a sleeptime group at frequency 5. Idempotent: an existing group is returned."""
        existing = await self.store.list(agent_id=main.id, manager_type="sleeptime")
        if existing:
            return existing[0]
        async with self.db.session() as s:
            block_ids = list((await s.execute(select(AgentBlockRow.block_id).where(
                AgentBlockRow.agent_id == main.id).order_by(AgentBlockRow.position))).scalars())
        llm, emb = dict(main.llm_config), dict(main.embedding_config)
        helper, _ = await self.agents.create(CreateAgentRequest(
            name=f"{main.name}-sleeptime"[:256], agent_type="sleeptime_agent", include_base_tools=False,
            tools=SLEEPTIME_TOOLS, llm_config=llm, embedding_config=emb,
            tool_rules=[{"type": "exit_loop", "tool_name": "memory_finish_edits"}],
            memory_blocks=[CreateBlock(label="persona", value=SLEEPTIME_PERSONA)],
            block_ids=[b for b in block_ids if b not in _persona_ids(main)]))
        try:
            await self._attach_tools(main.id, MAIN_AGENT_TOOLS)
            group = await self.create(GroupCreate(agent_ids=[helper.id], description=f"Sleep-time group of {main.name}",
                                                  manager_config=SleeptimeManager(
                                                      manager_agent_id=main.id,
                                                      sleeptime_agent_frequency=DEFAULT_FREQUENCY)))
        except BaseException:
            await self.agents.delete(helper.id)
            raise
        return group

    async def _sleeptime_groups(self, agent_id: str) -> tuple[list[str], list[str]]:
        """The sleep-time groups ``agent_id`` is the main agent of, and their sleep-time agents."""
        async with self.db.session() as s:
            groups = list((await s.execute(select(GroupRow.id).where(
                GroupRow.manager_agent_id == agent_id, GroupRow.manager_type.in_(SLEEPTIME_TYPES)))).scalars())
            helpers = list((await s.execute(select(GroupAgentRow.agent_id).where(
                GroupAgentRow.group_id.in_(groups)).order_by(GroupAgentRow.position))).scalars()) if groups else []
        return groups, helpers

    async def block_attached(self, agent_id: str, block_id: str) -> None:
        """A block attached to a main agent is attached to its sleep-time agents too."""
        _, helpers = await self._sleeptime_groups(agent_id)
        if helpers:
            async with self.db.transaction() as s:
                await share_blocks(s, helpers, [block_id])

    async def disable_sleeptime(self, agent_id: str) -> None:
        """``enable_sleeptime=false``, or the main agent being deleted: its sleep-time groups go, and their
        sleep-time agents with them (their running runs cancelled first). The main agent's blocks, shared
        with them, stay."""
        groups, helpers = await self._sleeptime_groups(agent_id)
        for group_id in groups:
            try:
                await self.store.delete(group_id)
            except NotFoundError:  # deleted meanwhile (another request, another process)
                pass
        for helper in helpers:
            try:
                await self.runner.cancel(helper, None)
                await self.agents.delete(helper)
            except NotFoundError:
                pass

    async def agent_deleting(self, agent_id: str) -> None:
        """Deleting a main agent deletes its sleep-time agents and the group."""
        await self.disable_sleeptime(agent_id)

    async def multi_agent_group(self, agent_id: str) -> dict[str, Any] | None:
        groups = await self.store.list(agent_id=agent_id)
        return groups[0].model_dump(mode="json") if groups else None


def _persona_ids(main: AgentState) -> set[str]:
    blocks = getattr(main, "memory", None)
    found = set()
    for b in getattr(blocks, "blocks", None) or []:
        if getattr(b, "label", None) == "persona" and getattr(b, "id", None):
            found.add(b.id)
    return found
