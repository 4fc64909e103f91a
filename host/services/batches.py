"""Message batches: many agents' requests in one, run in the background with bounded concurrency.

A batch is a ``jobs`` row of type ``batch`` (owner and lease as runs have: ``host.services.recovery``
renews every active job of its owner); each request is a ``batch_items`` row holding the request body.
An item is carried by a normal run (``Runner.execute``), at most ``concurrency`` at a time per server.

    pending → running (its run created) → completed | failed | cancelled

Cancelling a batch cancels its pending items and its running runs. When every item has ended the batch
is ``completed`` (``metadata`` counts the items by status), unless it was cancelled.

A stopped server (SQLite: at the next start; Postgres: when the batch's lease expired, found by any
server's sweep) leaves nothing stuck: its batches are claimed by the next server, an item whose run was
orphaned takes that run's end (``failed``; the run is closed by the recovery sweep), an item not yet
started is resumed.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime, timedelta
from typing import Any, cast

import anyio
from sqlalchemy import CursorResult, or_, select, update

from host.agent.runner import Runner, turn_request
from host.domain.actor import acting_organization
from host.errors import HostError, NotFoundError, TooLargeError
from host.ids import DEFAULT_USER_ID, new_id, utcnow
from host.persistence.convert import message_out
from host.persistence.db import Database
from host.persistence.models import AgentRow, BatchItemRow, JobRow, MessageRow
from host.schemas.messages import LettaRequest
from host.services.runs import ACTIVE, RunService

logger = logging.getLogger(__name__)

CONCURRENCY = 4  # items running at once per server
ENDED = ("completed", "failed", "cancelled")
_DB_TIMEOUT_S = 30.0


def _ts(v: datetime | None) -> str | None:
    return v.replace(microsecond=0).isoformat() if v else None


def batch_out(row: JobRow) -> dict[str, Any]:
    """Letta's ``BatchJob``."""
    return {
        "created_by_id": DEFAULT_USER_ID, "last_updated_by_id": DEFAULT_USER_ID,
        "created_at": _ts(row.created_at), "updated_at": _ts(row.updated_at), "status": row.status,
        "completed_at": _ts(row.completed_at), "metadata": row.metadata_ or {}, "job_type": "batch",
        "callback_url": (row.request_config or {}).get("callback_url"), "callback_sent_at": None,
        "callback_status_code": None, "callback_error": None, "id": row.id, "user_id": DEFAULT_USER_ID,
    }


def message_object(row: MessageRow, batch_item_id: str | None) -> dict[str, Any]:
    """Letta's ``Message`` (the stored message, not its LettaMessage views)."""
    m = message_out(row)
    content = [{"type": "text", "text": m.text}] if m.text is not None else []
    return {
        "id": m.id, "agent_id": m.agent_id, "role": m.role, "content": content, "name": m.name,
        "model": None, "tool_calls": [{"id": c.id, "type": "function",
                                       "function": {"name": c.name, "arguments": c.arguments}}
                                      for c in m.tool_calls] or None,
        "tool_call_id": m.tool_call_id, "step_id": row.step_id, "otid": None, "tool_returns": None,
        "group_id": None, "sender_id": None, "batch_item_id": batch_item_id, "is_err": None,
        "created_at": _ts(row.created_at), "updated_at": _ts(row.created_at),
        "created_by_id": DEFAULT_USER_ID, "last_updated_by_id": DEFAULT_USER_ID,
        "organization_id": acting_organization(),
    }


class BatchService:
    def __init__(self, db: Database, runs: RunService, runner: Runner, *, concurrency: int = CONCURRENCY) -> None:
        self.db = db
        self.runs = runs
        self.runner = runner
        self.concurrency = concurrency
        self._limiter: anyio.CapacityLimiter | None = None
        self._scopes: dict[str, anyio.CancelScope] = {}

    # ---- requests

    async def create(self, requests: list[tuple[str, LettaRequest]], callback_url: str | None) -> dict[str, Any]:
        agent_ids = sorted({a for a, _ in requests})
        async with self.db.session() as s:
            found = set((await s.execute(select(AgentRow.id).where(AgentRow.id.in_(agent_ids)))).scalars())
        for agent_id in agent_ids:
            if agent_id not in found:
                raise NotFoundError.unknown_id("Agent", agent_id)
        for i, (agent_id, body) in enumerate(requests):  # the input limits, before the batch is written
            try:
                await self.runner.admit(turn_request(agent_id, body, None))
            except TooLargeError as exc:
                raise TooLargeError(f"requests[{i}]: {exc.detail}") from None
        batch_id = new_id("job")
        now = utcnow()
        async with self.db.transaction() as s:
            s.add(JobRow(id=batch_id, job_type="batch", status="running", created_at=now, updated_at=now,
                         request_config={"callback_url": callback_url},
                         metadata_={"total": len(requests), "concurrency": self.concurrency},
                         owner=self.runs.instance_id, lease_expires_at=now + timedelta(seconds=self.runs.lease_s)))
            for i, (agent_id, body) in enumerate(requests):
                s.add(BatchItemRow(id=new_id("batch_item"), batch_id=batch_id, position=i, agent_id=agent_id,
                                   request=body.model_dump(mode="json", exclude_unset=True), status="pending",
                                   created_at=now, updated_at=now))
        self.runner.start_soon(lambda: self._drive(batch_id))
        return await self.get(batch_id)

    async def _row(self, batch_id: str) -> JobRow:
        async with self.db.session() as s:
            row = await s.get(JobRow, batch_id)
            if row is None or row.job_type != "batch":
                raise NotFoundError.for_id("Batch", batch_id)
            return row

    async def get(self, batch_id: str) -> dict[str, Any]:
        row = await self._row(batch_id)
        out = batch_out(row)
        out["metadata"] = {**out["metadata"], "items": await self._counts(batch_id)}
        return out

    async def list(self) -> list[dict[str, Any]]:
        async with self.db.session() as s:
            rows = (await s.execute(select(JobRow).where(JobRow.job_type == "batch")
                                    .order_by(JobRow.created_at.desc()))).scalars().all()
        return [batch_out(r) for r in rows]

    async def items(self, batch_id: str) -> list[BatchItemRow]:
        async with self.db.session() as s:
            return list((await s.execute(select(BatchItemRow).where(BatchItemRow.batch_id == batch_id)
                                         .order_by(BatchItemRow.position))).scalars())

    async def _counts(self, batch_id: str) -> dict[str, int]:
        counts: dict[str, int] = {}
        for item in await self.items(batch_id):
            counts[item.status] = counts.get(item.status, 0) + 1
        return counts

    async def messages(self, batch_id: str, *, limit: int = 100, cursor: str | None = None,
                       agent_id: str | None = None, sort_descending: bool = True) -> list[dict[str, Any]]:
        await self._row(batch_id)
        by_run = {i.run_id: i.id for i in await self.items(batch_id) if i.run_id}
        if not by_run:
            return []
        async with self.db.session() as s:
            stmt = select(MessageRow).where(MessageRow.run_id.in_(list(by_run)))
            if agent_id:
                stmt = stmt.where(MessageRow.agent_id == agent_id)
            if cursor:
                seq = (await s.execute(select(MessageRow.seq).where(MessageRow.id == cursor))).scalar()
                if seq is None:
                    raise NotFoundError.for_id("Message", cursor)
                stmt = stmt.where(MessageRow.seq < seq if sort_descending else MessageRow.seq > seq)
            order = MessageRow.seq.desc() if sort_descending else MessageRow.seq.asc()
            rows = (await s.execute(stmt.order_by(order).limit(max(1, limit)))).scalars().all()
        return [message_object(r, by_run.get(r.run_id) if r.run_id else None) for r in rows]

    async def cancel(self, batch_id: str) -> dict[str, Any]:
        await self._row(batch_id)
        now = utcnow()
        async with self.db.transaction() as s:
            await s.execute(update(JobRow).where(JobRow.id == batch_id, JobRow.status.in_(ACTIVE))
                            .values(status="cancelled", completed_at=now, updated_at=now)
                            .execution_options(synchronize_session=False))
            await s.execute(update(BatchItemRow).where(BatchItemRow.batch_id == batch_id,
                                                       BatchItemRow.status == "pending")
                            .values(status="cancelled", updated_at=now)
                            .execution_options(synchronize_session=False))
        running = [i for i in await self.items(batch_id) if i.status == "running" and i.run_id]
        await self.runs.cancel([i.run_id for i in running if i.run_id])  # another server's runs: marked
        for item in running:
            if item.run_id:
                await self.runner.cancel(item.agent_id, [item.run_id])
        scope = self._scopes.get(batch_id)
        if scope is not None:
            scope.cancel()
        return await self.get(batch_id)

    # ---- the work

    @property
    def limiter(self) -> anyio.CapacityLimiter:
        if self._limiter is None:
            self._limiter = anyio.CapacityLimiter(self.concurrency)
        return self._limiter

    async def _set_item(self, item_id: str, status: str, *, run_id: str | None = None, error: str | None = None,
                        only_if: tuple[str, ...] | None = None) -> bool:
        values: dict[str, Any] = {"status": status, "updated_at": utcnow()}
        if run_id is not None:
            values["run_id"] = run_id
        if error is not None:
            values["error"] = error[:2000]
        stmt = update(BatchItemRow).where(BatchItemRow.id == item_id)
        if only_if:
            stmt = stmt.where(BatchItemRow.status.in_(only_if))
        async with self.db.transaction() as s:
            res = await s.execute(stmt.values(**values).execution_options(synchronize_session=False))
            return bool(cast(CursorResult[Any], res).rowcount)

    async def _drive(self, batch_id: str) -> None:
        with anyio.CancelScope() as scope:
            self._scopes[batch_id] = scope
            try:
                async with anyio.create_task_group() as tg:
                    for item in await self.items(batch_id):
                        if item.status == "pending":
                            tg.start_soon(self._run_item, item)
                        elif item.status == "running":
                            tg.start_soon(self._await_item, item)
            except Exception:
                logger.exception("batch %s: driving its items failed", batch_id)
            finally:
                self._scopes.pop(batch_id, None)
        with anyio.CancelScope(shield=True):
            await self._settle(batch_id)

    async def _run_item(self, item: BatchItemRow) -> None:
        async with self.limiter:
            if not await self._set_item(item.id, "running", only_if=("pending",)):
                return  # cancelled while it waited
            try:
                body = LettaRequest.model_validate(item.request)
                run_id = await self.runs.create(item.agent_id, {"batch_id": item.batch_id, "batch_item_id": item.id,
                                                                "use_assistant_message": body.use_assistant_message})
                await self._set_item(item.id, "running", run_id=run_id)
            except HostError as exc:
                await self._set_item(item.id, "failed", error=exc.detail)
                return
            try:
                result = await self.runner.execute(turn_request(item.agent_id, body, run_id))
                status = "cancelled" if result.stop_reason == "cancelled" else "completed"
                await self._set_item(item.id, status)
            except anyio.get_cancelled_exc_class():
                with anyio.CancelScope(shield=True):
                    await self._set_item(item.id, "cancelled")
                raise
            except Exception as exc:  # the run is closed as failed by execute; the item says why
                if not isinstance(exc, HostError):
                    logger.exception("batch %s: item %s failed", item.batch_id, item.id)
                await self._set_item(item.id, "failed", error=str(getattr(exc, "detail", exc)))

    async def _await_item(self, item: BatchItemRow) -> None:
        """An item left running by a stopped server: it ends as its run ends (the recovery sweep closes an
        orphaned run); a running item without a run never started one and is run now."""
        if item.run_id is None:
            if await self._set_item(item.id, "pending", only_if=("running",)):
                item.status = "pending"
                await self._run_item(item)
            return
        while True:
            try:
                run = await self.runs.get(item.run_id)
            except NotFoundError:
                await self._set_item(item.id, "failed", error="its run was deleted")
                return
            if run["status"] not in ACTIVE:
                status = run["status"] if run["status"] in ENDED else "failed"
                await self._set_item(item.id, status, error=(run.get("metadata") or {}).get("error"))
                return
            await anyio.sleep(max(0.2, self.runs.lease_s / 4))

    async def _settle(self, batch_id: str) -> None:
        counts = await self._counts(batch_id)
        if any(k not in ENDED for k in counts):
            return  # cancelled by shutdown: the next server resumes it
        now = utcnow()
        async with self.db.transaction() as s:
            row = await s.get(JobRow, batch_id)
            if row is None:
                return
            row.metadata_ = {**(row.metadata_ or {}), "items": counts}
            if row.status in ACTIVE:
                row.status, row.completed_at = "completed", now
            row.updated_at = now

    # ---- restart

    async def claim(self, *, expired_before: datetime | None) -> list[str]:
        """Take over the active batches of other (stopped) servers: all of them when ``expired_before`` is
        None, else those whose lease expired before it. Each claim is a conditional UPDATE."""
        owner = self.runs.instance_id
        active = [JobRow.job_type == "batch", JobRow.status.in_(ACTIVE)]
        foreign = or_(JobRow.owner.is_(None), JobRow.owner != owner)
        lapsed = [] if expired_before is None else [
            or_(JobRow.lease_expires_at.is_(None), JobRow.lease_expires_at < expired_before)]
        async with self.db.session() as s:
            ids = list((await s.execute(select(JobRow.id).where(*active, foreign, *lapsed))).scalars())
        claimed: list[str] = []
        lease = utcnow() + timedelta(seconds=self.runs.lease_s)
        for batch_id in ids:
            async with self.db.transaction() as s:
                res = await s.execute(update(JobRow).where(JobRow.id == batch_id, *active, foreign, *lapsed)
                                      .values(owner=owner, lease_expires_at=lease)
                                      .execution_options(synchronize_session=False))
            if cast(CursorResult[Any], res).rowcount:
                claimed.append(batch_id)
                self.runner.start_soon(lambda b=batch_id: self._drive(b))
        return claimed


async def _sweep(batches: BatchService, every_s: float) -> None:
    while True:
        await anyio.sleep(every_s)
        try:
            with anyio.fail_after(_DB_TIMEOUT_S):
                claimed = await batches.claim(expired_before=utcnow())
            if claimed:
                logger.warning("resumed %d batch(es) whose server stopped: %s", len(claimed), ", ".join(claimed))
        except Exception:
            logger.exception("sweeping batches failed; retrying in %.0f s", every_s)


@asynccontextmanager
async def lifespan(services: Any, *, exclusive: bool = False) -> AsyncIterator[None]:
    """After the run recovery: resume the batches a stopped server left, then sweep for more."""
    batches: BatchService = services.batches
    limits = services.settings.limits
    everything = exclusive and not services.db.shared
    claimed = await batches.claim(expired_before=None if everything else utcnow())
    if claimed:
        logger.warning("resumed %d batch(es) left unfinished by a stopped server", len(claimed))
    async with anyio.create_task_group() as tg:
        tg.start_soon(_sweep, batches, min(limits.run_renew_s, limits.run_lease_s / 3))
        try:
            yield
        finally:
            tg.cancel_scope.cancel()


__all__ = ["BatchService", "batch_out", "lifespan", "message_object"]
