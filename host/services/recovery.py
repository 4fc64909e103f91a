"""Nothing stuck: runs whose server process is gone are closed, and the live process keeps its runs leased.

Each server process has an instance id (``RunService.instance_id``). A run records its owner and a lease
expiry (``jobs.owner``, ``jobs.lease_expires_at``); the owner renews the leases of all its live runs in one
UPDATE every ``Limits.run_renew_s`` (lease ``Limits.run_lease_s``).

    start-up, SQLite     one server per data directory: every run still created/running is orphaned
                         (``agenthost mcp`` on the same file, beside a server, applies the lease rule only)
    start-up, Postgres   several servers may share the database: runs whose lease expired (or that have no
                         owner, written before leases existed) are orphaned
    periodically         the same lease sweep, on both databases

An orphaned run is closed as ``failed`` with stop reason ``error`` and ``metadata.error`` saying the server
stopped before it finished. Each close is a conditional UPDATE (still active, lease still expired), so two
sweepers never close the same run twice and a run renewed in between is left alone. Steps need no repair:
a step is written in one transaction with its messages, so a crash leaves no half-written step. Runs are
not re-queued: the request that started them is not stored.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime, timedelta
from typing import Any, cast

import anyio
from sqlalchemy import CursorResult, or_, select, update

from host.ids import utcnow
from host.persistence.db import Database
from host.persistence.models import JobRow
from host.services.runs import ACTIVE, RunService

logger = logging.getLogger(__name__)

STOPPED = "the server stopped before this run finished (it was orphaned and closed at {at})"
_DB_TIMEOUT_S = 30.0


async def close_orphans(db: Database, *, owner: str, expired_before: datetime | None) -> list[str]:
    """Close the active runs not owned by ``owner`` whose lease expired before ``expired_before`` (all of
    them when it is None). Returns the ids this call closed."""
    now = utcnow()
    jobs = JobRow.__table__
    active = [JobRow.job_type == "run", JobRow.status.in_(ACTIVE)]
    # NULL owner: written before leases existed, by a process that is gone. ``!=`` alone skips NULLs.
    foreign = or_(JobRow.owner.is_(None), JobRow.owner != owner)
    lapsed = [] if expired_before is None else [
        or_(JobRow.lease_expires_at.is_(None), JobRow.lease_expires_at < expired_before)]
    async with db.session() as s:
        rows = (await s.execute(select(JobRow.id, JobRow.metadata_).where(*active, foreign, *lapsed))).all()
    closed: list[str] = []
    if not rows:
        return closed
    async with db.transaction() as s:
        for run_id, metadata in rows:
            meta = {**(metadata or {}), "error": STOPPED.format(at=now.replace(microsecond=0).isoformat())}
            stmt = (update(jobs).where(jobs.c.id == run_id, *active, foreign, *lapsed)
                    .values(status="failed", stop_reason="error", completed_at=now, updated_at=now, metadata=meta)
                    .execution_options(synchronize_session=False))
            if cast(CursorResult[Any], await s.execute(stmt)).rowcount:
                closed.append(run_id)
    return closed


async def renew(db: Database, *, owner: str, lease_s: float) -> int:
    """Extend the lease of every live run of ``owner``: one UPDATE."""
    stmt = (update(JobRow).where(JobRow.owner == owner, JobRow.status.in_(ACTIVE))
            .values(lease_expires_at=utcnow() + timedelta(seconds=lease_s))
            .execution_options(synchronize_session=False))
    async with db.transaction() as s:
        return int(cast(CursorResult[Any], await s.execute(stmt)).rowcount or 0)


async def _keep_leases(db: Database, runs: RunService, lease_s: float, every_s: float) -> None:
    while True:
        await anyio.sleep(every_s)
        try:
            with anyio.fail_after(_DB_TIMEOUT_S):
                await renew(db, owner=runs.instance_id, lease_s=lease_s)
                closed = await close_orphans(db, owner=runs.instance_id, expired_before=utcnow())
            if closed:
                logger.warning("closed %d run(s) whose server stopped renewing them: %s", len(closed),
                               ", ".join(closed))
        except Exception:  # a database hiccup: the next round tries again (leases outlast a few rounds)
            logger.exception("renewing run leases failed; retrying in %.0f s", every_s)


@asynccontextmanager
async def lifespan(services: Any, *, exclusive: bool = False) -> AsyncIterator[None]:
    """The start-up step (after the data-directory lock and the port bind) and the lease keeper.

    ``exclusive``: the process is ``agenthost serve``, alone on its SQLite data directory, so every run left
    active there is orphaned. Otherwise (Postgres, or ``agenthost mcp`` beside a server on the same SQLite
    file) only runs whose lease expired are."""
    db: Database = services.db
    runs: RunService = services.runs
    limits = services.settings.limits
    everything = exclusive and not db.is_postgres
    closed = await close_orphans(db, owner=runs.instance_id, expired_before=None if everything else utcnow())
    if closed:
        logger.warning("closed %d run(s) left unfinished by a stopped server", len(closed))
    every_s = min(limits.run_renew_s, limits.run_lease_s / 3)
    async with anyio.create_task_group() as tg:
        tg.start_soon(_keep_leases, db, runs, limits.run_lease_s, every_s)
        try:
            yield
        finally:
            tg.cancel_scope.cancel()


__all__ = ["close_orphans", "lifespan", "renew"]
