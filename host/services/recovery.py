"""Nothing stuck: runs whose server process is gone are closed, and the live process keeps its runs leased.

Each server process has an instance id (``RunService.instance_id``). A run records its owner and a lease
expiry (``jobs.owner``, ``jobs.lease_expires_at``); the owner renews the leases of all its live runs in one
UPDATE every ``Limits.run_renew_s`` (lease ``Limits.run_lease_s``).

    start-up, SQLite     one server per data directory, one worker: every run still created/running is
                         orphaned (``agenthost mcp`` on the same file, beside a server, applies the lease
                         rule only)
    start-up, shared     Postgres, where several servers may share the database, or one SQLite file served
                         by several workers (``Database.shared``): runs whose lease expired (or that have no
                         owner, written before leases existed) are orphaned
    periodically         the same lease sweep, on both databases

An orphaned async run (``POST .../messages/async``: its request is stored in ``jobs.payload``) that had
written nothing yet (no step, no message) is re-queued: this process claims it (owner and a fresh lease)
and runs it again, at most ``MAX_STARTS`` times in all. Every other orphaned run is closed as ``failed``
with stop reason ``error`` and ``metadata.error`` saying the server stopped before it finished. Each claim
and each close is a conditional UPDATE (still active, lease still expired, and for a claim still nothing
written), so two sweepers never take or close the same run twice and a run renewed in between is left
alone. Steps need no repair: a step is written in one transaction with its messages, so a crash leaves no
half-written step.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, cast

import anyio
from sqlalchemy import ColumnElement, CursorResult, exists, or_, select, update

from host.agent.runner import Runner
from host.domain.actor import Actor, acting_as
from host.ids import DEFAULT_USER_ID, utcnow
from host.persistence.db import Database
from host.persistence.models import JobRow, MessageRow, StepRow
from host.services.runs import ACTIVE, RunService

logger = logging.getLogger(__name__)

STOPPED = "the server stopped before this run finished (it was orphaned and closed at {at})"
MAX_STARTS = 3  # a re-queued run that keeps outliving its servers is closed after this many starts
_DB_TIMEOUT_S = 30.0


@dataclass(frozen=True)
class Requeued:
    """An async run this process claimed to run again: its id, agent and stored request."""

    run_id: str
    agent_id: str
    request: dict[str, Any]
    organization_id: str


def _orphaned(owner: str, expired_before: datetime | None) -> list[ColumnElement[bool]]:
    """Active runs not owned by ``owner`` whose lease expired before ``expired_before`` (any, when None)."""
    # NULL owner: written before leases existed, by a process that is gone. ``!=`` alone skips NULLs.
    where = [JobRow.job_type == "run", JobRow.status.in_(ACTIVE), or_(JobRow.owner.is_(None), JobRow.owner != owner)]
    if expired_before is not None:
        where.append(or_(JobRow.lease_expires_at.is_(None), JobRow.lease_expires_at < expired_before))
    return where


async def claim_requeueable(db: Database, *, owner: str, expired_before: datetime | None,
                            lease_s: float) -> list[Requeued]:
    """Take over the orphaned async runs that wrote nothing (see the module docstring); ``owner`` then runs
    them. Returns the runs this call claimed."""
    untouched = [JobRow.payload.is_not(None),
                 ~exists().where(StepRow.run_id == JobRow.id), ~exists().where(MessageRow.run_id == JobRow.id)]
    where = [*_orphaned(owner, expired_before), *untouched]
    async with db.session() as s:
        rows = (await s.execute(select(JobRow.id, JobRow.agent_id, JobRow.payload, JobRow.metadata_,
                                       JobRow.organization_id)
                                .where(*where))).all()
    claimed: list[Requeued] = []
    if not rows:
        return claimed
    now = utcnow()
    jobs = JobRow.__table__
    async with db.transaction() as s:
        for run_id, agent_id, stored, metadata, org in rows:
            payload: dict[str, Any] = stored or {}
            starts = int(payload.get("starts") or 1)
            if starts >= MAX_STARTS or not isinstance(payload.get("request"), dict) or agent_id is None:
                continue  # closed as failed by close_orphans
            stmt = (update(jobs).where(jobs.c.id == run_id, *where)
                    .values(owner=owner, lease_expires_at=now + timedelta(seconds=lease_s), status="running",
                            updated_at=now, payload={**payload, "starts": starts + 1},
                            metadata={**(metadata or {}), "requeued": starts})
                    .execution_options(synchronize_session=False))
            if cast(CursorResult[Any], await s.execute(stmt)).rowcount:
                claimed.append(Requeued(run_id, agent_id, payload["request"], org))
    return claimed


async def close_orphans(db: Database, *, owner: str, expired_before: datetime | None) -> list[str]:
    """Close the active runs not owned by ``owner`` whose lease expired before ``expired_before`` (all of
    them when it is None). Returns the ids this call closed."""
    now = utcnow()
    jobs = JobRow.__table__
    where = _orphaned(owner, expired_before)
    async with db.session() as s:
        rows = (await s.execute(select(JobRow.id, JobRow.metadata_).where(*where))).all()
    closed: list[str] = []
    if not rows:
        return closed
    async with db.transaction() as s:
        for run_id, metadata in rows:
            meta = {**(metadata or {}), "error": STOPPED.format(at=now.replace(microsecond=0).isoformat())}
            stmt = (update(jobs).where(jobs.c.id == run_id, *where)
                    .values(status="failed", stop_reason="error", completed_at=now, updated_at=now, metadata=meta)
                    .execution_options(synchronize_session=False))
            if cast(CursorResult[Any], await s.execute(stmt)).rowcount:
                closed.append(run_id)
    return closed


async def renew(db: Database, *, owner: str, lease_s: float) -> int:
    """Extend the lease of every live run of ``owner``: one UPDATE, on Postgres in autocommit, so that a
    process frozen between two of its round trips never holds its runs' rows locked (a sweeper claiming
    one would wait for it)."""
    jobs = JobRow.__table__
    stmt = (update(jobs).where(jobs.c.owner == owner, jobs.c.status.in_(ACTIVE))
            .values(lease_expires_at=utcnow() + timedelta(seconds=lease_s)))
    return await db.write_one(lambda s: int(cast(CursorResult[Any], s.connection().execute(stmt)).rowcount or 0))


async def recover(db: Database, runner: Runner, *, owner: str, expired_before: datetime | None,
                  lease_s: float) -> tuple[int, list[str]]:
    """One sweep: re-queue what can run again, close the rest. Returns (re-queued count, closed ids)."""
    requeued = await claim_requeueable(db, owner=owner, expired_before=expired_before, lease_s=lease_s)
    for run in requeued:
        try:
            # The turn acts for the run's organization (its task inherits the actor): it sees only that
            # organization's objects, as when it was first started by a request.
            with acting_as(Actor(user_id=DEFAULT_USER_ID, organization_id=run.organization_id, is_admin=False)):
                runner.resume(run.run_id, run.agent_id, run.request)
        except Exception as exc:  # the stored request no longer validates, or the server is stopping
            logger.warning("could not re-queue run %s: %s", run.run_id, exc)
            await runner.runs.finish(run.run_id, "failed", "error", error=f"could not be run again: {exc}")
    if requeued:
        logger.warning("re-queued %d async run(s) a stopped server left before they wrote anything: %s",
                       len(requeued), ", ".join(r.run_id for r in requeued))
    closed = await close_orphans(db, owner=owner, expired_before=expired_before)
    return len(requeued), closed


async def _keep_leases(db: Database, runner: Runner, owner: str, lease_s: float, every_s: float) -> None:
    while True:
        await anyio.sleep(every_s)
        try:
            with anyio.fail_after(_DB_TIMEOUT_S):
                await renew(db, owner=owner, lease_s=lease_s)
                _, closed = await recover(db, runner, owner=owner, expired_before=utcnow(), lease_s=lease_s)
            if closed:
                logger.warning("closed %d run(s) whose server stopped renewing them: %s", len(closed),
                               ", ".join(closed))
        except Exception:  # a database hiccup: the next round tries again (leases outlast a few rounds)
            logger.exception("renewing run leases failed; retrying in %.0f s", every_s)


@asynccontextmanager
async def lifespan(services: Any, *, exclusive: bool = False) -> AsyncIterator[None]:
    """The start-up step (after the data-directory lock and the port bind) and the lease keeper.

    ``exclusive``: the process is ``agenthost serve``, alone on its SQLite data directory, so every run left
    active there is orphaned. Otherwise (Postgres, a worker beside others on one SQLite file, or ``agenthost
    mcp`` beside a server on the same SQLite file) only runs whose lease expired are: a sibling's live runs
    keep their leases renewed."""
    db: Database = services.db
    runs: RunService = services.runs
    limits = services.settings.limits
    runner: Runner = services.runner
    everything = exclusive and not db.shared
    _, closed = await recover(db, runner, owner=runs.instance_id, lease_s=limits.run_lease_s,
                              expired_before=None if everything else utcnow())
    if closed:
        logger.warning("closed %d run(s) left unfinished by a stopped server", len(closed))
    every_s = min(limits.run_renew_s, limits.run_lease_s / 3)
    async with anyio.create_task_group() as tg:
        tg.start_soon(_keep_leases, db, runner, runs.instance_id, limits.run_lease_s, every_s)
        try:
            yield
        finally:
            tg.cancel_scope.cancel()


__all__ = ["Requeued", "claim_requeueable", "close_orphans", "lifespan", "recover", "renew"]
