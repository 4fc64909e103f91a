"""Conversations (1.x ``/v1/conversations``): named threads of an agent.

A conversation belongs to one agent; its turns run on that agent through the one runner, so memory,
tools and runs are the agent's. It does not keep a context window of its own yet: every conversation of
an agent shares the agent's in-context history, and a conversation's messages are the agent's messages
written since the conversation was created (``since``).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select

from host.errors import NotFoundError
from host.ids import DEFAULT_USER_ID, new_id, utcnow
from host.persistence.db import Database
from host.persistence.models import AgentRow, ConversationRow


def _iso(ts: datetime | None) -> str | None:
    return ts.isoformat() + "Z" if ts is not None else None


def conversation_view(row: ConversationRow) -> dict[str, Any]:
    settings = dict(row.settings or {})
    return {"created_by_id": DEFAULT_USER_ID, "last_updated_by_id": DEFAULT_USER_ID,
            "created_at": _iso(row.created_at), "updated_at": _iso(row.updated_at), "id": row.id,
            "agent_id": row.agent_id, "summary": row.summary, "in_context_message_ids": [],
            "isolated_block_ids": [], "model": settings.get("model"), "model_settings": settings.get("model_settings"),
            "last_message_at": _iso(row.last_message_at)}


class ConversationService:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def create(self, agent_id: str, summary: str | None, settings: dict[str, Any]) -> dict[str, Any]:
        now = utcnow()
        async with self.db.transaction() as s:
            if await s.get(AgentRow, agent_id) is None:
                raise NotFoundError.for_id("Agent", agent_id)
            row = ConversationRow(id=new_id("conv"), agent_id=agent_id, summary=summary, settings=settings,
                                  created_at=now, updated_at=now)
            s.add(row)
        return conversation_view(row)

    async def _row(self, s: Any, conversation_id: str) -> ConversationRow:
        row = await s.get(ConversationRow, conversation_id)
        if row is None:
            raise NotFoundError.for_id("Conversation", conversation_id)
        return row

    async def get(self, conversation_id: str) -> dict[str, Any]:
        async with self.db.session() as s:
            return conversation_view(await self._row(s, conversation_id))

    async def since(self, conversation_id: str) -> tuple[str, datetime]:
        """The conversation's agent, and when the conversation began."""
        async with self.db.session() as s:
            row = await self._row(s, conversation_id)
            return row.agent_id, row.created_at

    async def list(self, agent_id: str | None, summary_search: str | None) -> list[dict[str, Any]]:
        stmt = select(ConversationRow).order_by(ConversationRow.created_at, ConversationRow.id)
        if agent_id:
            stmt = stmt.where(ConversationRow.agent_id == agent_id)
        async with self.db.session() as s:
            rows = (await s.execute(stmt)).scalars().all()
        needle = (summary_search or "").lower()
        return [conversation_view(r) for r in rows if not needle or needle in (r.summary or "").lower()]

    async def update(self, conversation_id: str, changes: dict[str, Any]) -> dict[str, Any]:
        async with self.db.transaction() as s:
            row = await self._row(s, conversation_id)
            if "summary" in changes:
                row.summary = changes.pop("summary")
            if changes:
                row.settings = {**(row.settings or {}), **changes}
            row.updated_at = utcnow()
        return conversation_view(row)

    async def touched(self, conversation_id: str) -> None:
        async with self.db.transaction() as s:
            row = await self._row(s, conversation_id)
            row.last_message_at = utcnow()

    async def delete(self, conversation_id: str) -> None:
        async with self.db.transaction() as s:
            await s.delete(await self._row(s, conversation_id))

    async def fork(self, conversation_id: str) -> dict[str, Any]:
        async with self.db.session() as s:
            row = await self._row(s, conversation_id)
        return await self.create(row.agent_id, row.summary, dict(row.settings or {}))


__all__ = ["ConversationService", "conversation_view"]
