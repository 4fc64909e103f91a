"""Ingestion jobs (``jobs`` rows with ``job_type = 'job'``): listing, cancel, delete, and the worker's queue.

The database is the queue, so queued work survives a restart and several server processes can share it:

    created --claim--> running --> completed | failed
       ^                  |  \\--> cancelled (PATCH /v1/jobs/{id}/cancel, or its source/file deleted)
       +-- requeue -------+  (worker shut down mid-job, or a running job whose heartbeat went stale)

A worker claims a job with a compare-and-set on its status, and touches ``updated_at`` after every
embedding batch (the heartbeat).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import select, update

from host.errors import NotFoundError
from host.ids import utcnow
from host.persistence.db import Database
from host.persistence.models import FileRow, JobRow
from host.persistence.paging import paginate
from host.schemas.sources import Job, JobStatus, JobType

ACTIVE = ("created", "pending", "running")
INGEST = "job"


def job_out(row: JobRow) -> Job:
    meta = dict(row.metadata_ or {})
    return Job(id=row.id, status=cast(JobStatus, row.status), job_type=cast(JobType, row.job_type), metadata=meta,
               created_at=row.created_at, updated_at=row.updated_at, completed_at=row.completed_at,
               progress=row.progress, error=meta.get("error"),
               callback_url=(row.request_config or {}).get("callback_url"))


class JobService:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def list(self, *, source_id: str | None = None, before: str | None = None, after: str | None = None,
                   limit: int | None = 50, ascending: bool = True, active: bool = False) -> list[Job]:
        async with self.db.session() as s:
            stmt = select(JobRow).where(JobRow.job_type == INGEST)
            if source_id:
                stmt = stmt.where(JobRow.source_id == source_id)
            if active:
                stmt = stmt.where(JobRow.status.in_(ACTIVE))
            rows = await paginate(s, stmt, JobRow, before=before, after=after, limit=limit, ascending=ascending)
            return [job_out(r) for r in rows]

    async def get(self, job_id: str) -> Job:
        async with self.db.session() as s:
            row = await s.get(JobRow, job_id)
            if row is None:
                raise NotFoundError.for_id("Job", job_id)
            return job_out(row)

    async def cancel(self, job_id: str) -> Job:
        """Stop an active job; the worker notices before its next embedding batch and writes no passages."""
        async with self.db.transaction() as s:
            row = await s.get(JobRow, job_id)
            if row is None:
                raise NotFoundError.for_id("Job", job_id)
            if row.status in ACTIVE:
                row.status, row.completed_at = "cancelled", utcnow()
                if row.job_type == INGEST:
                    await s.execute(update(FileRow).where(FileRow.job_id == job_id).values(
                        processing_status="error", error_message="Ingestion was cancelled", updated_at=utcnow()))
            return job_out(row)

    async def delete(self, job_id: str) -> Job:
        await self.cancel(job_id)
        async with self.db.transaction() as s:
            row = await s.get(JobRow, job_id)
            if row is None:
                raise NotFoundError.for_id("Job", job_id)
            out = job_out(row)
            await s.delete(row)
            return out

    # ---- the worker's side -------------------------------------------------------------------
    async def claim_next(self) -> str | None:
        async with self.db.session() as s:
            candidates = list((await s.execute(
                select(JobRow.id).where(JobRow.job_type == INGEST, JobRow.status.in_(("created", "pending")))
                .order_by(JobRow.created_at, JobRow.id).limit(4))).scalars())
        for job_id in candidates:
            async with self.db.transaction() as s:
                claimed = await s.execute(update(JobRow).where(JobRow.id == job_id, JobRow.status.in_(
                    ("created", "pending"))).values(status="running", updated_at=utcnow()))
                if claimed.rowcount == 1:  # type: ignore[attr-defined]
                    return job_id
        return None

    async def requeue_stale(self, stale_before: datetime | None) -> int:
        """Put running jobs back in the queue: all of them (``stale_before=None``) or those not heard from."""
        async with self.db.transaction() as s:
            stmt = update(JobRow).where(JobRow.job_type == INGEST, JobRow.status == "running")
            if stale_before is not None:
                stmt = stmt.where(JobRow.updated_at < stale_before)
            result = await s.execute(stmt.values(status="created", progress=0.0))
            return int(result.rowcount or 0)  # type: ignore[attr-defined]

    async def requeue(self, job_id: str) -> None:
        async with self.db.transaction() as s:
            await s.execute(update(JobRow).where(JobRow.id == job_id, JobRow.status == "running")
                            .values(status="created", progress=0.0, updated_at=utcnow()))
            await s.execute(update(FileRow).where(FileRow.job_id == job_id).values(processing_status="pending"))

    async def status(self, job_id: str) -> str | None:
        async with self.db.session() as s:
            return (await s.execute(select(JobRow.status).where(JobRow.id == job_id))).scalar_one_or_none()

    async def heartbeat(self, job_id: str, *, progress: float | None = None,
                        metadata: dict[str, Any] | None = None) -> None:
        async with self.db.transaction() as s:
            row = await s.get(JobRow, job_id)
            if row is None or row.status != "running":
                return
            row.updated_at = utcnow()
            if progress is not None:
                row.progress = progress
            if metadata:
                row.metadata_ = {**(row.metadata_ or {}), **metadata}


def stale_cutoff(lease_s: float) -> datetime:
    return utcnow() - timedelta(seconds=lease_s)


class JobSignal:
    """Wakes the ingestion workers when a job is queued, so they need not poll the database often."""

    def __init__(self) -> None:
        import anyio

        self._event = anyio.Event()

    def notify(self) -> None:
        self._event.set()

    async def wait(self, timeout_s: float) -> None:
        import anyio

        with anyio.move_on_after(timeout_s):
            await self._event.wait()
        if self._event.is_set():
            self._event = anyio.Event()

