"""Agent-to-agent delivery for the multi-agent tools (the host side of ``AgentMessengerPort``).

    send_async     -> a run for the target, executed in the runner's background task group
    send_and_wait  -> the target's turn, run inline under the reply timeout; its assistant text
    find_agents    -> ids of agents by tag (all or any)

Deadlocks. A turn holds its agent's lock until it ends, and a tool waiting for a reply keeps the
turn open. So if A waits for B and B (or C, asked by B...) then waits for A, A's lock can never be
taken: the chain would hang until the reply timeout. The messenger keeps the in-process
"waits for" graph of every ``send_and_wait`` in flight and refuses a wait that would close a cycle,
answering at once with a reply that explains why. Chains without cycles are bounded by the tools'
``call_depth`` limit; asynchronous ping-pong is bounded the same way (each hop is one deeper).
Waits across server processes (several workers on one Postgres) are not in this graph: they are
bounded only by the reply timeout.
"""

from __future__ import annotations

import logging
from collections import Counter
from dataclasses import replace
from typing import TYPE_CHECKING

import anyio
from sqlalchemy import func, select

from builtin_tools import UnknownAgentError
from host.domain.letta import AssistantMessage
from host.errors import NotFoundError
from host.persistence.db import Database
from host.persistence.models import AgentTagRow, GroupAgentRow, GroupRow
from host.schemas.messages import LettaRequest, MessageCreate

if TYPE_CHECKING:
    from host.agent.runner import Runner

logger = logging.getLogger(__name__)


def cycle_refusal(target: str) -> str:
    """The reply a waiting agent gets instead of a deadlock (written for the model)."""
    return (
        f"[Not delivered: agent {target!r} is itself waiting, directly or through other agents, for your "
        "reply, so it cannot take a new message until you finish. Do not wait on it: end your turn with "
        "send_message; your final reply goes back to it.]"
    )


NO_TEXT_REPLY = "[The agent finished its turn without sending a reply.]"


class WaitGraph:
    """Who is waiting synchronously for whom, in this process (edges counted: fan-out may repeat)."""

    def __init__(self) -> None:
        self._edges: dict[str, Counter[str]] = {}

    def closes_cycle(self, sender: str, target: str) -> bool:
        """Would ``sender`` waiting for ``target`` close a cycle (target reaches sender by waits)?"""
        seen: set[str] = set()
        stack = [target]
        while stack:
            agent = stack.pop()
            if agent == sender:
                return True
            if agent in seen:
                continue
            seen.add(agent)
            stack.extend(self._edges.get(agent, ()))
        return False

    def add(self, sender: str, target: str) -> None:
        self._edges.setdefault(sender, Counter())[target] += 1

    def remove(self, sender: str, target: str) -> None:
        edges = self._edges.get(sender)
        if edges is None:
            return
        edges[target] -= 1
        if edges[target] <= 0:
            del edges[target]
        if not edges:
            del self._edges[sender]


class AgentMessenger:
    def __init__(self, db: Database, runner: Runner) -> None:
        self.db = db
        self.runner = runner
        self.waits = WaitGraph()

    @staticmethod
    def _request(message: str, sender: str) -> LettaRequest:
        return LettaRequest(messages=[MessageCreate(role="user", content=message, sender_id=sender)])

    async def _check_exists(self, agent_id: str) -> None:
        try:
            await self.runner.exists(agent_id)
        except NotFoundError:
            raise UnknownAgentError(agent_id) from None

    async def send_async(self, target_agent_id: str, message: str, sender_agent_id: str, *, call_depth: int) -> str:
        if not self.runner.accepting:
            raise RuntimeError("no background task group for asynchronous delivery (server shutting down?)")
        from host.agent.runner import turn_request

        req = turn_request(target_agent_id, self._request(message, sender_agent_id), None, call_depth=call_depth)
        try:
            await self.runner.admit(req)  # the input limits, before the run is written
            run_id = await self.runner.runs.create(target_agent_id, {"sender_id": sender_agent_id,
                                                                     "call_depth": call_depth})
        except NotFoundError:
            raise UnknownAgentError(target_agent_id) from None

        async def deliver() -> None:
            try:
                await self.runner.execute(replace(req, run_id=run_id))
            except Exception:
                logger.exception("async delivery from agent %s to agent %s (run %s) failed", sender_agent_id,
                                 target_agent_id, run_id)

        self.runner.start_soon(deliver)
        logger.info("agent %s -> agent %s: queued as run %s (depth %d)", sender_agent_id, target_agent_id, run_id,
                    call_depth)
        return str(run_id)

    async def send_and_wait(self, target_agent_id: str, message: str, sender_agent_id: str, timeout_s: float, *,
                            call_depth: int) -> str | None:
        await self._check_exists(target_agent_id)
        if self.waits.closes_cycle(sender_agent_id, target_agent_id):
            logger.info("agent %s -> agent %s refused: the wait would deadlock", sender_agent_id, target_agent_id)
            return cycle_refusal(target_agent_id)
        self.waits.add(sender_agent_id, target_agent_id)
        try:
            with anyio.move_on_after(timeout_s):
                try:
                    result = await self.runner.send(target_agent_id, self._request(message, sender_agent_id),
                                                    call_depth=call_depth)
                except NotFoundError:
                    raise UnknownAgentError(target_agent_id) from None
                replies = [m.content for m in result.messages if isinstance(m, AssistantMessage)]
                return "\n".join(r for r in replies if r) or NO_TEXT_REPLY
            logger.info("agent %s -> agent %s: no reply within %.1f s", sender_agent_id, target_agent_id, timeout_s)
            return None
        finally:
            self.waits.remove(sender_agent_id, target_agent_id)

    async def find_agents(self, tags: list[str], match_all: bool) -> list[str]:
        if not tags:
            return []
        async with self.db.session() as s:
            stmt = select(AgentTagRow.agent_id).where(AgentTagRow.tag.in_(tags))
            if match_all:
                stmt = stmt.group_by(AgentTagRow.agent_id).having(
                    func.count(func.distinct(AgentTagRow.tag)) == len(set(tags)))
            else:
                stmt = stmt.distinct()
            return sorted(a for (a,) in (await s.execute(stmt)).all())

    async def group_members(self, manager_agent_id: str) -> list[str]:
        """Members of the supervisor groups the agent manages, in group order."""
        async with self.db.session() as s:
            stmt = (select(GroupAgentRow.agent_id).join(GroupRow, GroupRow.id == GroupAgentRow.group_id)
                    .where(GroupRow.manager_agent_id == manager_agent_id, GroupRow.manager_type == "supervisor")
                    .order_by(GroupRow.created_at, GroupAgentRow.position))
            return list(dict.fromkeys((await s.execute(stmt)).scalars()))
