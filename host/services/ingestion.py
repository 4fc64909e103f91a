"""The ingestion worker: parse an uploaded file, split it, embed the chunks in batches, store the passages.

One job at a time per worker; ``sources_lifespan`` runs a few workers in a task group. A source on an
organization's own (BYOK) embedding model embeds with that organization's provider key (host.persistence.byok),
read once per job. Progress (file
status, chunks embedded, job progress) is written after every batch, which is also the job's heartbeat.
All passages of a file are written in one transaction at the end, so a failed or cancelled job leaves none.
A worker cancelled mid-job (server shutdown) puts the job back in the queue.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

import anyio
from sqlalchemy import delete, insert, select, update

from host.ids import new_id, utcnow
from host.llm.providers import EmbeddingConfig, ProviderSettings
from host.persistence.byok import settings_for_embedding
from host.persistence.db import Database
from host.persistence.models import FileRow, JobRow, PassageRow, SourceRow, UploadBlobRow
from host.persistence.secret_box import SecretBox, SecretBoxError
from host.services.archival import embedding_enabled
from host.services.chunking import chunk_text
from host.services.jobs import JobService, JobSignal
from host.services.parsing import ParseError, extract_text
from host.services.source_files import remove_stored

logger = logging.getLogger(__name__)

EMBED_BATCH = 128
EMBED_TIMEOUT_S = 120.0


class JobFailed(Exception):
    """The job cannot complete; the message becomes the job's and the file's error."""


class JobCancelled(Exception):
    """The job was cancelled (or its file or source deleted) while it ran."""


@dataclass(frozen=True)
class _Work:
    job_id: str
    file_id: str
    file_name: str
    file_type: str | None
    storage_path: str | None
    source_id: str
    organization_id: str  # the source's: whose own embedding provider, if its model is one
    embedding_config: dict[str, Any]


class IngestionWorker:
    def __init__(self, db: Database, providers: ProviderSettings, jobs: JobService, *,
                 signal: JobSignal | None = None, poll_interval_s: float = 5.0, secrets: SecretBox | None = None) -> None:
        self.db = db
        self.providers = providers
        self.secrets = secrets  # opens the keys of organizations' own providers
        self.jobs = jobs
        self.signal = signal or JobSignal()
        self.poll_interval_s = poll_interval_s

    async def run_forever(self) -> None:
        while True:
            job_id = await self.jobs.claim_next()
            if job_id is None:
                # Woken at once by an upload on this server; the poll catches jobs queued elsewhere.
                await self.signal.wait(self.poll_interval_s)
                continue
            await self.process(job_id)

    async def process(self, job_id: str) -> None:
        try:
            work = await self._load(job_id)
            logger.info("ingesting %s (job %s, source %s)", work.file_name, job_id, work.source_id)
            count = await self._ingest(work)
        except JobCancelled:
            logger.info("ingestion job %s was cancelled", job_id)
            await self._discard(job_id)
        except JobFailed as exc:
            logger.warning("ingestion job %s failed: %s", job_id, exc)
            await self._fail(job_id, str(exc))
        except anyio.get_cancelled_exc_class():
            with anyio.CancelScope(shield=True), anyio.move_on_after(5):
                await self.jobs.requeue(job_id)
            raise
        except Exception as exc:  # a bug or an outage: fail this job, keep the worker alive
            logger.exception("ingestion job %s crashed", job_id)
            await self._fail(job_id, f"Internal error while ingesting: {type(exc).__name__}: {exc}")
        else:
            logger.info("ingestion job %s completed: %d passages", job_id, count)

    async def _load(self, job_id: str) -> _Work:
        async with self.db.session() as s:
            job = await s.get(JobRow, job_id)
            if job is None:
                raise JobCancelled(job_id)
            file_id = (job.metadata_ or {}).get("file_id")
            file = await s.get(FileRow, file_id) if file_id else None
            source = await s.get(SourceRow, job.source_id) if job.source_id else None
            if file is None or source is None:
                raise JobCancelled(job_id)
            return _Work(job_id=job_id, file_id=file.id, file_name=file.file_name, file_type=file.file_type,
                         storage_path=file.storage_path, source_id=source.id,
                         organization_id=source.organization_id, embedding_config=dict(source.embedding_config))

    async def _set_file(self, file_id: str, **values: Any) -> None:
        async with self.db.transaction() as s:
            await s.execute(update(FileRow).where(FileRow.id == file_id).values(updated_at=utcnow(), **values))

    async def _check(self, job_id: str) -> None:
        if await self.jobs.status(job_id) != "running":
            raise JobCancelled(job_id)

    async def _bytes(self, work: _Work) -> bytes:
        """The uploaded bytes: in the database (any process can read them), or on this server's disk for files
        uploaded before 0010."""
        if work.storage_path:
            try:
                return await anyio.Path(work.storage_path).read_bytes()
            except OSError as exc:
                raise JobFailed(f"The bytes of {work.file_name!r} could not be read ({exc}): upload the file "
                                "again") from None
        async with self.db.session() as s:
            data = (await s.execute(select(UploadBlobRow.data).where(UploadBlobRow.file_id == work.file_id))
                    ).scalar_one_or_none()
        if data is None:
            raise JobFailed(f"The bytes of {work.file_name!r} are no longer stored: upload the file again")
        return bytes(data)

    async def _ingest(self, work: _Work) -> int:
        data = await self._bytes(work)
        await self._set_file(work.file_id, processing_status="parsing", error_message=None)
        chunk_size = int(work.embedding_config.get("embedding_chunk_size") or 300)
        try:
            chunks = await anyio.to_thread.run_sync(_parse_and_chunk, data, work.file_name, work.file_type,
                                                    chunk_size)
        except ParseError as exc:
            raise JobFailed(str(exc)) from None
        await self._check(work.job_id)
        total = len(chunks)
        await self._set_file(work.file_id, processing_status="embedding", total_chunks=total, chunks_embedded=0)
        await self.jobs.heartbeat(work.job_id, progress=0.0, metadata={"total_chunks": total, "chunks_embedded": 0})
        vectors = await self._embed(work, chunks)
        return await self._store(work, chunks, vectors)

    async def _embed(self, work: _Work, chunks: list[str]) -> list[list[float]] | None:
        if not embedding_enabled(work.embedding_config):
            return None
        from host import llm

        config = EmbeddingConfig.model_validate(work.embedding_config)
        try:
            providers = await settings_for_embedding(self.db, self.secrets, config, self.providers,
                                                     organization_id=work.organization_id)
        except SecretBoxError as exc:
            raise JobFailed(f"Embedding {work.file_name!r} with {config.handle}: the provider's key cannot be "
                            f"read ({exc}); enter it again (PATCH /v1/providers/{{id}})") from None
        step = max(1, min(EMBED_BATCH, config.batch_size * 4))
        vectors: list[list[float]] = []
        for start in range(0, len(chunks), step):
            batch = chunks[start:start + step]
            try:
                vectors.extend(await llm.embed(config, batch, providers, timeout_s=EMBED_TIMEOUT_S))
            except llm.LlmError as exc:
                raise JobFailed(f"Embedding {work.file_name!r} with {config.handle or config.embedding_model} "
                                f"failed: {exc}") from None
            done = len(vectors)
            await self._check(work.job_id)
            await self._set_file(work.file_id, chunks_embedded=done)
            await self.jobs.heartbeat(work.job_id, progress=done / len(chunks),
                                      metadata={"chunks_embedded": done})
        dims = {len(v) for v in vectors}
        if len(dims) > 1 or (dims and dims != {int(config.embedding_dim)}):
            raise JobFailed(f"{config.handle or config.embedding_model} returned {sorted(dims)}-dimensional "
                            f"vectors, but the source expects {config.embedding_dim}")
        return vectors

    async def _store(self, work: _Work, chunks: list[str], vectors: list[list[float]] | None) -> int:
        now = utcnow()
        rows = [{"id": new_id("passage"), "agent_id": None, "source_id": work.source_id, "file_id": work.file_id,
                 "file_name": work.file_name, "text": chunk, "embedding": vectors[i] if vectors else None,
                 "embedding_dim": len(vectors[i]) if vectors else None, "embedding_config": work.embedding_config,
                 "tags": None, "metadata_": {"chunk_index": i}, "created_at": now, "updated_at": now}
                for i, chunk in enumerate(chunks)]
        async with self.db.transaction() as s:
            job = await s.get(JobRow, work.job_id, with_for_update=self.db.is_postgres)
            file = await s.get(FileRow, work.file_id)
            if job is None or job.status != "running" or file is None:
                raise JobCancelled(work.job_id)
            for start in range(0, len(rows), 1000):
                await s.execute(insert(PassageRow), rows[start:start + 1000])
            file.processing_status, file.chunks_embedded, file.total_chunks = "completed", len(rows), len(rows)
            file.storage_path, file.updated_at = None, now
            await s.execute(delete(UploadBlobRow).where(UploadBlobRow.file_id == work.file_id))
            job.status, job.completed_at, job.progress, job.updated_at = "completed", now, 1.0, now
            job.metadata_ = {**(job.metadata_ or {}), "num_passages": len(rows), "chunks_embedded": len(rows),
                             "total_chunks": len(rows)}
        if work.storage_path:
            await remove_stored([work.storage_path])
        return len(rows)

    async def _fail(self, job_id: str, message: str) -> None:
        path = None
        async with self.db.transaction() as s:
            job = await s.get(JobRow, job_id)
            if job is None:
                return
            file_id = (job.metadata_ or {}).get("file_id")
            file = await s.get(FileRow, file_id) if file_id else None
            if file is not None:
                path, file.storage_path = file.storage_path, None
                await s.execute(delete(UploadBlobRow).where(UploadBlobRow.file_id == file.id))
                file.processing_status, file.error_message, file.updated_at = "error", message, utcnow()
            if job.status == "running":
                job.status, job.completed_at = "failed", utcnow()
                job.metadata_ = {**(job.metadata_ or {}), "error": message}
        if path:
            await remove_stored([path])

    async def _discard(self, job_id: str) -> None:
        """A cancelled job: keep its file record (status error), drop the stored bytes."""
        async with self.db.transaction() as s:
            job = await s.get(JobRow, job_id)
            file_id = (job.metadata_ or {}).get("file_id") if job else None
            file = await s.get(FileRow, file_id) if file_id else None
            path = file.storage_path if file else None
            if file is not None:
                file.storage_path = None
                await s.execute(delete(UploadBlobRow).where(UploadBlobRow.file_id == file.id))
                if file.processing_status != "error":
                    file.processing_status, file.error_message = "error", "Ingestion was cancelled"
        if path:
            await remove_stored([path])


def _parse_and_chunk(data: bytes, file_name: str, file_type: str | None, chunk_size: int) -> list[str]:
    return chunk_text(extract_text(data, file_name, file_type), chunk_size)
