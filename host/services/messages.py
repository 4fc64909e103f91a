"""An agent's message history: list (as LettaMessages), modify, reset, and recall search."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from host.domain.messages import StoredMessage, to_letta_messages
from host.errors import InvalidRequestError, NotFoundError
from host.ids import utcnow
from host.persistence.convert import message_out
from host.persistence.db import Database
from host.persistence.models import AgentRow, MessageRow
from host.schemas.agents import AgentState
from host.services.agent_view import hydrate
from host.services.memory import append_messages, fresh_prompts, initial_messages, recompile_system


class MessageService:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def _agent(self, s: AsyncSession, agent_id: str) -> AgentRow:
        agent = await s.get(AgentRow, agent_id)
        if agent is None:
            raise NotFoundError.for_id("Agent", agent_id)
        return agent

    async def stored(self, agent_id: str, *, after: str | None = None, before: str | None = None,
                     limit: int | None = 10, group_id: str | None = None,
                     order: str | None = None) -> list[StoredMessage]:
        """A window of history, chronological; with ``order`` (1.x) a page in that order whose cursors
        follow it (``desc`` + ``after=<id>``: older than that message). The system message shows the
        agent's memory as it is now (compiled here if an attach or detach left it stale)."""
        await fresh_prompts(self.db, [agent_id])
        async with self.db.session() as s:
            await self._agent(s, agent_id)
            stmt = select(MessageRow).where(MessageRow.agent_id == agent_id)
            if group_id:
                stmt = stmt.where(MessageRow.group_id == group_id)

            async def seq_of(mid: str) -> int | None:
                return (await s.execute(select(MessageRow.seq).where(MessageRow.id == mid))).scalar_one_or_none()

            if order is not None:
                newer, older = (after, before) if order == "asc" else (before, after)
                if newer and (seq := await seq_of(newer)) is not None:
                    stmt = stmt.where(MessageRow.seq > seq)
                if older and (seq := await seq_of(older)) is not None:
                    stmt = stmt.where(MessageRow.seq < seq)
                stmt = stmt.order_by(MessageRow.seq.asc() if order == "asc" else MessageRow.seq.desc())
                return [message_out(r) for r in (await s.execute(stmt.limit(limit) if limit else stmt)).scalars()]
            if after and (seq := await seq_of(after)) is not None:
                stmt = stmt.where(MessageRow.seq > seq)
            if before and (seq := await seq_of(before)) is not None:
                stmt = stmt.where(MessageRow.seq < seq)
            if after and not before:
                stmt = stmt.order_by(MessageRow.seq.asc())
                rows = list((await s.execute(stmt.limit(limit) if limit else stmt)).scalars())
            else:
                stmt = stmt.order_by(MessageRow.seq.desc())
                rows = list((await s.execute(stmt.limit(limit) if limit else stmt)).scalars())[::-1]
            return [message_out(r) for r in rows]

    async def list(self, agent_id: str, *, after: str | None = None, before: str | None = None,
                   limit: int | None = 10, group_id: str | None = None, use_assistant_message: bool = True,
                   assistant_message_tool_name: str = "send_message",
                   assistant_message_tool_kwarg: str = "message", order: str | None = None,
                   since: datetime | None = None) -> list[dict[str, Any]]:
        """The agent's messages as LettaMessages (``since``: only those written at or after it)."""
        out: list[dict[str, Any]] = []
        for msg in await self.stored(agent_id, after=after, before=before, limit=limit, group_id=group_id,
                                     order=order):
            if since is not None and msg.created_at is not None and msg.created_at < since:
                continue
            out.extend(to_letta_messages(msg, use_assistant_message=use_assistant_message,
                                         assistant_tool=assistant_message_tool_name,
                                         assistant_kwarg=assistant_message_tool_kwarg))
        return out

    async def modify(self, agent_id: str, message_id: str, body: dict[str, Any]) -> dict[str, Any]:
        """Edit a message's text. Letta's union: user/system ``content``, reasoning ``reasoning``,
        assistant ``content`` (rewrites the send_message argument)."""
        import json

        kind = body.get("message_type")
        await fresh_prompts(self.db, [agent_id])  # an edit of the system message is not undone by a stale mark
        async with self.db.transaction() as s:
            agent = await self._agent(s, agent_id)
            agent.updated_at = utcnow()  # moves the agent's version: cached histories are read afresh
            row = (await s.execute(select(MessageRow).where(MessageRow.id == message_id,
                                                            MessageRow.agent_id == agent_id))).scalar_one_or_none()
            if row is None:
                raise NotFoundError(f"Message with ID {message_id} not found for agent {agent_id}")
            content = body.get("content")
            if isinstance(content, list):
                content = " ".join(p.get("text", "") for p in content if isinstance(p, dict))
            if kind in (None, "user_message", "system_message"):
                if row.role not in ("user", "system") or not isinstance(content, str):
                    raise InvalidRequestError(f"Message {message_id} is a {row.role} message; send the "
                                              "message_type that matches it with its new content")
                row.text = content
            elif kind == "reasoning_message":
                if row.role != "assistant" or not isinstance(body.get("reasoning"), str):
                    raise InvalidRequestError("reasoning_message edits need an assistant message and 'reasoning'")
                row.text = body["reasoning"]
            elif kind == "assistant_message":
                calls = [dict(c) for c in row.tool_calls or []]
                target = next((c for c in calls if c.get("name") == "send_message"), None)
                if target is None or not isinstance(content, str):
                    raise InvalidRequestError(f"Message {message_id} has no send_message call to edit")
                args = json.loads(target.get("arguments") or "{}")
                args["message"] = content
                target["arguments"] = json.dumps(args)
                row.tool_calls = calls
            else:
                raise InvalidRequestError(f"Unsupported message_type {kind!r}")
            row.content = [{"type": "text", "text": row.text}] if row.text is not None else None
            msg = message_out(row)
        return (to_letta_messages(msg) or [{}])[-1 if kind == "assistant_message" else 0]

    async def reset(self, agent_id: str, *, add_default_initial_messages: bool = False) -> AgentState:
        async with self.db.transaction() as s:
            agent = await self._agent(s, agent_id)
            system_id = (agent.message_ids or [None])[0]
            agent.message_ids = [system_id] if system_id else []
            # Like Letta, a reset is destructive: the old history leaves recall memory too.
            doomed = delete(MessageRow).where(MessageRow.agent_id == agent_id)
            await s.execute(doomed.where(MessageRow.id != system_id) if system_id else doomed)
            if add_default_initial_messages:
                msgs = (await initial_messages(s, agent, None))[1:]
                await append_messages(s, agent, msgs)
            if not system_id:
                await append_messages(s, agent, (await initial_messages(s, agent, None))[:1])
            agent.updated_at = utcnow()
            await s.flush()
            await s.run_sync(recompile_system, agent)
            return (await hydrate(s, [agent]))[0]

    async def search_views(self, agent_id: str, query: str, *, page_size: int = 5) -> list[dict[str, Any]]:
        """Matching messages as LettaMessages (an unknown agent: no matches)."""
        return [view for stored in await self.search(agent_id, query, page_size=page_size)
                for view in to_letta_messages(stored)]

    async def search(self, agent_id: str, query: str, *, page: int = 0, page_size: int = 5,
                     roles: list[str] | None = None, start: datetime | None = None,
                     end: datetime | None = None) -> list[StoredMessage]:
        async with self.db.session() as s:
            stmt = select(MessageRow).where(MessageRow.agent_id == agent_id, MessageRow.role != "system")
            if query:
                stmt = stmt.where(MessageRow.text.ilike(f"%{query}%") | MessageRow.tool_calls.cast(
                    MessageRow.text.type).ilike(f"%{query}%"))
            if roles:
                stmt = stmt.where(MessageRow.role.in_(roles))
            if start:
                stmt = stmt.where(MessageRow.created_at >= start)
            if end:
                stmt = stmt.where(MessageRow.created_at <= end)
            stmt = stmt.order_by(MessageRow.seq.desc()).offset(page * page_size).limit(page_size)
            return [message_out(r) for r in (await s.execute(stmt)).scalars()]
