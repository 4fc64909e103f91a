"""Files of a source: upload (store the bytes, queue an ingestion job), list, inspect, delete.

Uploaded bytes are stored in the database (``upload_blobs``) in the transaction that queues the job, and
removed with the job's end: a restart never loses queued work, and any server process sharing the database
can ingest the file. Files uploaded before that (0010) wait under ``<home>/uploads/<file id>``
(``storage_path``), read and removed the same way. Parsing and embedding happen in ``host.services.ingestion``.
"""

from __future__ import annotations

import logging
from pathlib import PurePosixPath

import anyio
from sqlalchemy import delete, select

from host.errors import BadRequestError, ConflictError, NotFoundError
from host.ids import new_id, utcnow
from host.persistence.db import Database
from host.persistence.models import FileRow, JobRow, PassageRow, UploadBlobRow
from host.persistence.paging import paginate
from host.schemas.sources import DuplicateFileHandling, FileMetadata
from host.services.jobs import ACTIVE
from host.services.parsing import mime_type
from host.services.sources import SourceService

logger = logging.getLogger(__name__)

MAX_UPLOAD_BYTES = 100 * 1024 * 1024


def file_out(row: FileRow) -> FileMetadata:
    return FileMetadata(id=row.id, source_id=row.source_id, file_name=row.file_name,
                        original_file_name=row.original_file_name or row.file_name, file_type=row.file_type,
                        file_size=row.file_size, processing_status=row.processing_status,  # type: ignore[arg-type]
                        error_message=row.error_message, total_chunks=row.total_chunks,
                        chunks_embedded=row.chunks_embedded, created_at=row.created_at, updated_at=row.updated_at,
                        job_id=row.job_id)


def _clean_name(name: str | None) -> str:
    base = PurePosixPath((name or "").replace("\\", "/")).name.strip()
    return base[:255] or "upload.txt"


def _suffixed(name: str, taken: set[str]) -> str:
    path = PurePosixPath(name)
    n = 1
    while True:
        candidate = f"{path.stem}_({n}){path.suffix}"
        if candidate not in taken:
            return candidate
        n += 1


async def remove_stored(paths: list[str]) -> None:
    for path in paths:
        try:
            await anyio.Path(path).unlink(missing_ok=True)
        except OSError:
            logger.warning("could not remove uploaded file %s", path, exc_info=True)


class SourceFileService:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def upload(self, source_id: str, file_name: str | None, content_type: str | None, data: bytes,
                     duplicate_handling: DuplicateFileHandling = "suffix") -> FileMetadata:
        if len(data) > MAX_UPLOAD_BYTES:
            raise BadRequestError(f"{file_name!r} is {len(data)} bytes; the upload limit is {MAX_UPLOAD_BYTES} bytes")
        original = _clean_name(file_name)
        async with self.db.session() as s:
            source = await SourceService.row(s, source_id)
            taken = set((await s.execute(select(FileRow.file_name).where(FileRow.source_id == source_id))).scalars())
            if original in taken:
                if duplicate_handling == "error":
                    raise ConflictError(f"Source {source.name!r} already has a file named {original!r}: pass "
                                        f"duplicate_handling=suffix or skip, or delete the existing file")
                if duplicate_handling == "skip":
                    existing = (await s.execute(select(FileRow).where(FileRow.source_id == source_id,
                                                                      FileRow.file_name == original)
                                                .order_by(FileRow.created_at.desc()).limit(1))).scalar_one()
                    return file_out(existing)
        name = _suffixed(original, taken) if original in taken else original
        file_id, job_id = new_id("file"), new_id("job")
        now = utcnow()
        row = FileRow(id=file_id, source_id=source_id, file_name=name, original_file_name=original,
                      file_type=mime_type(original, content_type), file_size=len(data), processing_status="pending",
                      job_id=job_id, storage_path=None, created_at=now, updated_at=now)
        async with self.db.transaction() as s:
            await SourceService.row(s, source_id)
            s.add(row)
            await s.flush()  # the file row before its blob (foreign key)
            s.add(UploadBlobRow(file_id=file_id, data=data, created_at=now))
            s.add(JobRow(id=job_id, job_type="job", status="created", source_id=source_id, progress=0.0,
                         metadata_={"type": "embedding", "filename": name, "file_id": file_id,
                                    "source_id": source_id}, created_at=now, updated_at=now))
        logger.info("queued ingestion job %s for %s (%d bytes) in source %s", job_id, name, len(data), source_id)
        return file_out(row)

    async def list(self, source_id: str, *, after: str | None, limit: int | None) -> list[FileMetadata]:
        async with self.db.session() as s:
            await SourceService.row(s, source_id)
            stmt = select(FileRow).where(FileRow.source_id == source_id)
            rows = await paginate(s, stmt, FileRow, before=None, after=after, limit=limit, ascending=True)
            return [file_out(r) for r in rows]

    async def get(self, source_id: str, file_id: str) -> FileMetadata:
        async with self.db.session() as s:
            row = await s.get(FileRow, file_id)
            if row is None or row.source_id != source_id:
                raise NotFoundError(f"File with ID {file_id} not found in source {source_id}")
            return file_out(row)

    async def delete(self, source_id: str, file_id: str) -> None:
        """Delete the file and its passages (agents stop finding them at once); cancel its job if still active."""
        async with self.db.transaction() as s:
            row = await s.get(FileRow, file_id)
            if row is None or row.source_id != source_id:
                raise NotFoundError(f"File with ID {file_id} not found in source {source_id}")
            path = row.storage_path
            if row.job_id:
                job = await s.get(JobRow, row.job_id)
                if job is not None and job.status in ACTIVE:
                    job.status, job.completed_at = "cancelled", utcnow()
                    job.metadata_ = {**(job.metadata_ or {}), "error": "The file was deleted"}
            await s.execute(delete(PassageRow).where(PassageRow.file_id == file_id))
            await s.execute(delete(UploadBlobRow).where(UploadBlobRow.file_id == file_id))
            await s.delete(row)
        if path:
            await remove_stored([path])
