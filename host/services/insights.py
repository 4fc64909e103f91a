"""Read-only queries the 1.x API generation adds over stored history: one message by id, messages
searched across agents, a step's messages, and run/step metrics derived from what each step recorded."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, select

from host.domain.actor import acting_organization
from host.domain.messages import to_letta_messages
from host.errors import NotFoundError
from host.persistence.convert import message_out
from host.persistence.db import Database
from host.persistence.models import JobRow, MessageRow, StepRow
from host.services.batches import message_object
from host.services.memory import fresh_prompts


def _ns(value: datetime | None) -> int | None:
    if value is None:
        return None
    aware = value if value.tzinfo else value.replace(tzinfo=UTC)
    return int(aware.timestamp() * 1_000_000_000)


async def _page(s: Any, stmt: Any, *, order: str, after: str | None, before: str | None,
                limit: int | None) -> list[MessageRow]:
    """A page of messages in ``order``; ``after``/``before`` are message ids in that order."""
    newer, older = (after, before) if order == "asc" else (before, after)
    for cursor, newer_side in ((newer, True), (older, False)):
        if cursor:
            seq = (await s.execute(select(MessageRow.seq).where(MessageRow.id == cursor))).scalar()
            if seq is not None:
                stmt = stmt.where(MessageRow.seq > seq if newer_side else MessageRow.seq < seq)
    stmt = stmt.order_by(MessageRow.seq.asc() if order == "asc" else MessageRow.seq.desc())
    return list((await s.execute(stmt.limit(limit) if limit else stmt)).scalars())


class InsightService:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def message(self, message_id: str) -> list[dict[str, Any]]:
        """The Letta messages one stored message renders to (a tool call and its reasoning share an id)."""
        owner = await self.db.read(lambda s: s.execute(select(MessageRow.agent_id).where(
            MessageRow.id == message_id, MessageRow.role == "system")).scalar_one_or_none())
        if owner is not None:  # a system message shows its agent's memory as it is now
            await fresh_prompts(self.db, [owner])
        async with self.db.session() as s:
            row = (await s.execute(select(MessageRow).where(MessageRow.id == message_id))).scalar_one_or_none()
            if row is None:
                raise NotFoundError.for_id("Message", message_id)
            return to_letta_messages(message_out(row))

    async def _search_rows(self, query: str, *, agent_id: str | None, limit: int, start: datetime | None,
                           end: datetime | None, roles: Sequence[str] = ("user", "assistant", "system")
                           ) -> list[MessageRow]:
        """Stored messages whose text holds ``query`` (any agent's, or one agent's), newest first."""
        if "system" in roles:
            await fresh_prompts(self.db, [agent_id] if agent_id else None)
        async with self.db.session() as s:
            stmt = select(MessageRow).where(MessageRow.role.in_(tuple(roles)))
            if agent_id:
                stmt = stmt.where(MessageRow.agent_id == agent_id)
            if query:
                stmt = stmt.where(MessageRow.text.ilike(f"%{query}%"))
            if start:
                stmt = stmt.where(MessageRow.created_at >= start)
            if end:
                stmt = stmt.where(MessageRow.created_at <= end)
            return list((await s.execute(stmt.order_by(MessageRow.seq.desc()).limit(limit))).scalars())

    async def search_messages(self, query: str, *, agent_id: str | None = None, limit: int = 50,
                              start: datetime | None = None, end: datetime | None = None) -> list[dict[str, Any]]:
        """Text search over every agent's history (or one agent's), newest first, as LettaMessages."""
        out: list[dict[str, Any]] = []
        for row in await self._search_rows(query, agent_id=agent_id, limit=limit, start=start, end=end):
            for msg in to_letta_messages(message_out(row)):
                if msg["message_type"] in ("user_message", "assistant_message", "system_message",
                                           "reasoning_message"):
                    out.append({**msg, "agent_id": row.agent_id, "conversation_id": None})
        return out[:limit]

    async def search_message_objects(self, query: str, *, agent_id: str | None = None,
                                     roles: Sequence[str] | None = None, limit: int = 50,
                                     start: datetime | None = None, end: datetime | None = None
                                     ) -> list[dict[str, Any]]:
        """The same search answered as Letta's ``MessageSearchResult``s (the stored ``Message`` with its
        full-text rank; no vector ranking: messages are not embedded)."""
        rows = await self._search_rows(query, agent_id=agent_id, limit=limit, start=start, end=end,
                                       roles=roles or ("user", "assistant", "system", "tool"))
        return [{"embedded_text": row.text or "", "message": message_object(row, None), "fts_rank": rank,
                 "vector_rank": None, "rrf_score": 1.0 / (60 + rank)} for rank, row in enumerate(rows, 1)]

    async def all_messages(self, *, order: str = "desc", after: str | None = None, before: str | None = None,
                           limit: int | None = 100, message_types: Sequence[str] | None = None
                           ) -> list[dict[str, Any]]:
        """Every agent's messages as LettaMessages, a page in ``order`` whose cursors follow it. ``limit``
        counts LettaMessages (a stored message shows as none, one or several); a page ends on a stored
        message's boundary, so ``after=<last id>`` continues where it stopped."""
        out: list[dict[str, Any]] = []
        batch = max(limit or 0, 100)
        if not message_types or "system_message" in message_types:
            await fresh_prompts(self.db)
        async with self.db.session() as s:
            while True:
                rows = await _page(s, select(MessageRow), order=order, after=after, before=before, limit=batch)
                for row in rows:
                    shown = [m for m in to_letta_messages(message_out(row))
                             if not message_types or m["message_type"] in message_types]
                    if limit and out and len(out) + len(shown) > limit:
                        return out
                    out += shown
                    if limit and len(out) >= limit:
                        return out
                if len(rows) < batch:
                    return out
                after = rows[-1].id  # "after" follows the order: the next batch continues this one

    async def step_messages(self, step_id: str, *, order: str = "asc", after: str | None = None,
                            before: str | None = None, limit: int | None = 100) -> list[dict[str, Any]]:
        async with self.db.session() as s:
            await self._step(s, step_id)
            rows = await _page(s, select(MessageRow).where(MessageRow.step_id == step_id), order=order,
                               after=after, before=before, limit=limit)
            return [m for row in rows for m in to_letta_messages(message_out(row))]

    @staticmethod
    async def _step(s: Any, step_id: str) -> StepRow:
        row = (await s.execute(select(StepRow).where(StepRow.id == step_id))).scalar_one_or_none()
        if row is None:
            raise NotFoundError.for_id("Step", step_id)
        return row

    async def run_metrics(self, run_id: str) -> dict[str, Any]:
        async with self.db.session() as s:
            run = await s.get(JobRow, run_id)
            if run is None or run.job_type != "run":
                raise NotFoundError.for_id("Run", run_id)
            steps = int((await s.execute(select(func.count()).select_from(StepRow)
                                         .where(StepRow.run_id == run_id))).scalar_one())
            calls = (await s.execute(select(MessageRow.tool_calls).where(
                MessageRow.run_id == run_id, MessageRow.tool_calls.is_not(None)))).scalars()
            used = sorted({c.get("name", "") for batch in calls for c in (batch or []) if c.get("name")})
            start, done = _ns(run.created_at), _ns(run.completed_at)
            return {"id": run.id, "organization_id": run.organization_id, "agent_id": run.agent_id, "project_id": None,
                    "run_start_ns": start, "run_ns": done - start if start is not None and done is not None else None,
                    "num_steps": steps, "tools_used": used, "template_id": None, "base_template_id": None}

    async def run_trace(self, run_id: str, limit: int = 1000) -> list[dict[str, Any]]:
        """One span per step (what agenthost records: model, tokens, stop reason, start time)."""
        async with self.db.session() as s:
            run = await s.get(JobRow, run_id)
            if run is None or run.job_type != "run":
                raise NotFoundError.for_id("Run", run_id)
            rows = (await s.execute(select(StepRow).where(StepRow.run_id == run_id)
                                    .order_by(StepRow.seq.asc()).limit(limit))).scalars()
            return [{"span_name": "step", "step_id": r.id, "start_ns": _ns(r.created_at), "model": r.model,
                     "prompt_tokens": r.prompt_tokens, "completion_tokens": r.completion_tokens,
                     "stop_reason": r.stop_reason} for r in rows]

    async def step_metrics(self, step_id: str) -> dict[str, Any]:
        async with self.db.session() as s:
            row = await self._step(s, step_id)
            return {"id": row.id, "organization_id": acting_organization(), "provider_id": None, "run_id": row.run_id,
                    "agent_id": row.agent_id, "step_start_ns": _ns(row.created_at), "llm_request_start_ns": None,
                    "llm_request_ns": None, "tool_execution_ns": None, "step_ns": None, "base_template_id": None,
                    "template_id": None, "project_id": None}

    async def step_exists(self, step_id: str) -> None:
        async with self.db.session() as s:
            await self._step(s, step_id)


