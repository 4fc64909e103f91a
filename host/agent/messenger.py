"""Agent-to-agent delivery for the multi-agent tools (the host side of ``AgentMessengerPort``)."""

from __future__ import annotations

import logging
from typing import Any

import anyio
from anyio.abc import TaskGroup
from builtin_tools import UnknownAgentError
from sqlalchemy import func, select

from host.errors import NotFoundError
from host.persistence.db import Database
from host.persistence.models import AgentTagRow
from host.schemas.messages import LettaRequest, MessageCreate

logger = logging.getLogger(__name__)


class AgentMessenger:
    def __init__(self, db: Database, runner: Any, background: TaskGroup | None) -> None:
        self.db = db
        self.runner = runner
        self.background = background

    def _request(self, message: str, sender: str) -> LettaRequest:
        return LettaRequest(messages=[MessageCreate(role="user", content=message, sender_id=sender)])

    async def send_async(self, target_agent_id: str, message: str, sender_agent_id: str, *, call_depth: int) -> str:
        try:
            await self.runner._exists(target_agent_id)
        except NotFoundError:
            raise UnknownAgentError(target_agent_id) from None
        run_id = await self.runner.runs.create(target_agent_id, {"sender_id": sender_agent_id})

        async def deliver() -> None:
            from host.agent.runner import turn_request

            try:
                await self.runner._execute(turn_request(target_agent_id, self._request(message, sender_agent_id),
                                                        run_id, call_depth=call_depth))
            except Exception:
                logger.exception("async delivery to %s failed", target_agent_id)

        if self.background is None:
            raise RuntimeError("no background task group for asynchronous delivery")
        self.background.start_soon(deliver)
        return run_id

    async def send_and_wait(self, target_agent_id: str, message: str, sender_agent_id: str, timeout_s: float, *,
                            call_depth: int) -> str | None:
        try:
            await self.runner._exists(target_agent_id)
        except NotFoundError:
            raise UnknownAgentError(target_agent_id) from None
        with anyio.move_on_after(timeout_s):
            result = await self.runner.send(target_agent_id, self._request(message, sender_agent_id),
                                            call_depth=call_depth)
            replies = [m.get("content") for m in result.messages if m.get("message_type") == "assistant_message"]
            return "\n".join(str(r) for r in replies if r) or ""
        return None

    async def find_agents(self, tags: list[str], match_all: bool) -> list[str]:
        if not tags:
            return []
        async with self.db.session() as s:
            stmt = select(AgentTagRow.agent_id).where(AgentTagRow.tag.in_(tags))
            if match_all:
                stmt = stmt.group_by(AgentTagRow.agent_id).having(func.count(func.distinct(AgentTagRow.tag))
                                                                   == len(set(tags)))
            else:
                stmt = stmt.distinct()
            return [a for (a,) in (await s.execute(stmt)).all()]
