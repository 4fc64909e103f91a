"""The sources area at run time: ingestion workers in a task group, for as long as the server runs.

At start, jobs left ``running`` by a previous process are put back in the queue: on a database this process
alone uses (SQLite, one worker) all of them; on a shared one (Postgres, where several servers may share the
database, or a SQLite file served by several workers: ``Database.shared``) those whose heartbeat is older than
``LEASE_S``, which each worker also re-checks periodically. Jobs still ``created``
simply wait for a worker. On shutdown a worker puts its current job back in the queue.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import anyio

from host.services.ingestion import IngestionWorker
from host.services.jobs import JobService, stale_cutoff

logger = logging.getLogger(__name__)

WORKERS = 2
LEASE_S = 120.0


async def _reclaim_loop(jobs: JobService) -> None:
    while True:
        await anyio.sleep(LEASE_S / 4)
        if await jobs.requeue_stale(stale_cutoff(LEASE_S)):
            logger.warning("re-queued ingestion jobs whose worker stopped sending heartbeats")


@asynccontextmanager
async def lifespan(services: Any) -> AsyncIterator[None]:
    db = services.db
    jobs = JobService(db)
    requeued = 0
    if services.settings.recover_interrupted:  # not in a guest beside the server that owns the jobs
        requeued = await jobs.requeue_stale(stale_cutoff(LEASE_S) if db.shared else None)
    if requeued:
        logger.info("re-queued %d interrupted ingestion job(s)", requeued)
    async with anyio.create_task_group() as tg:
        for _ in range(WORKERS):
            tg.start_soon(IngestionWorker(db, services.settings.providers, jobs, signal=services.job_signal,
                                          secrets=services.byok.box).run_forever)
        if db.shared:
            tg.start_soon(_reclaim_loop, jobs)
        try:
            yield
        finally:
            tg.cancel_scope.cancel()
