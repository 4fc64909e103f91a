"""Data sources, their files and passages; ingestion jobs; attaching sources to agents (Letta's routes)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Depends, File, Query, UploadFile

from host.api.routing import SlashRouter, services
from host.errors import BadRequestError
from host.schemas.agents import AgentState
from host.schemas.passages import Passage
from host.schemas.sources import DuplicateFileHandling, FileMetadata, Job, Source, SourceCreate, SourceUpdate
from host.services import Services
from host.services.jobs import JobService
from host.services.source_files import MAX_UPLOAD_BYTES, SourceFileService, remove_stored
from host.services.sources import SourceService

router = SlashRouter()
Svc = Annotated[Services, Depends(services)]


async def _sources(svc: Svc) -> SourceService:
    return SourceService(svc.db, svc.registry, svc.byok)


async def _files(svc: Svc) -> SourceFileService:
    return SourceFileService(svc.db)


async def _jobs(svc: Svc) -> JobService:
    return JobService(svc.db)


Sources = Annotated[SourceService, Depends(_sources)]
Files = Annotated[SourceFileService, Depends(_files)]
Jobs = Annotated[JobService, Depends(_jobs)]


# ---- sources ------------------------------------------------------------------------------------
@router.get("/v1/sources/count", response_model=int, operation_id="count_sources", tags=["sources"])
async def count_sources(sources: Sources) -> int:
    return await sources.count()


@router.get("/v1/sources/name/{source_name}", response_model=str, operation_id="get_source_id_by_name",
            tags=["sources"])
async def source_id_by_name(source_name: str, sources: Sources) -> str:
    return await sources.id_by_name(source_name)


@router.get("/v1/sources/metadata", operation_id="get_sources_metadata", tags=["sources"])
async def sources_metadata(sources: Sources, files: Files,
                           include_detailed_per_source_metadata: bool = False) -> dict[str, Any]:
    stats = []
    total_files = total_size = 0
    for source in await sources.list():
        listed = await files.list(source.id, after=None, limit=None)
        size = sum(f.file_size or 0 for f in listed)
        total_files, total_size = total_files + len(listed), total_size + size
        entry: dict[str, Any] = {"source_id": source.id, "source_name": source.name, "file_count": len(listed),
                                 "total_size": size}
        if include_detailed_per_source_metadata:
            entry["files"] = [{"file_id": f.id, "file_name": f.file_name, "file_size": f.file_size}
                              for f in listed]
        stats.append(entry)
    return {"total_sources": len(stats), "total_files": total_files, "total_size": total_size, "sources": stats}


@router.get("/v1/sources/", response_model=list[Source], operation_id="list_sources", tags=["sources"])
async def list_sources(sources: Sources) -> list[Source]:
    return await sources.list()


@router.post("/v1/sources/", response_model=Source, operation_id="create_source", tags=["sources"])
async def create_source(body: SourceCreate, sources: Sources) -> Source:
    return await sources.create(body)


@router.get("/v1/sources/{source_id}", response_model=Source, operation_id="retrieve_source", tags=["sources"])
async def retrieve_source(source_id: str, sources: Sources) -> Source:
    return await sources.get(source_id)


@router.patch("/v1/sources/{source_id}", response_model=Source, operation_id="modify_source", tags=["sources"])
async def modify_source(source_id: str, body: SourceUpdate, sources: Sources) -> Source:
    return await sources.modify(source_id, body)


@router.delete("/v1/sources/{source_id}", operation_id="delete_source", tags=["sources"])
async def delete_source(source_id: str, sources: Sources) -> Any:
    await remove_stored(await sources.delete(source_id))
    return None


@router.get("/v1/sources/{source_id}/agents", response_model=list[str], operation_id="get_agents_for_source",
            tags=["sources"])
async def agents_for_source(source_id: str, sources: Sources) -> list[str]:
    return await sources.agent_ids(source_id)


@router.get("/v1/sources/{source_id}/passages", response_model=list[Passage], operation_id="list_source_passages",
            tags=["sources"])
async def source_passages(source_id: str, sources: Sources, after: str | None = None, before: str | None = None,
                          limit: int | None = 100) -> list[Passage]:
    return await sources.passages(source_id, after=after, before=before, limit=limit)


# ---- files --------------------------------------------------------------------------------------
@router.post("/v1/sources/{source_id}/upload", response_model=FileMetadata, operation_id="upload_file_to_source",
             tags=["sources"])
async def upload_file(source_id: str, files: Files, svc: Svc, file: Annotated[UploadFile, File()],
                      duplicate_handling: DuplicateFileHandling = "suffix") -> FileMetadata:
    """Store the file and queue its ingestion; returns at once (``job_id`` names the job to watch)."""
    data = await file.read(MAX_UPLOAD_BYTES + 1)
    if len(data) > MAX_UPLOAD_BYTES:
        raise BadRequestError(f"{file.filename!r} is larger than the {MAX_UPLOAD_BYTES}-byte upload limit")
    meta = await files.upload(source_id, file.filename, file.content_type, data, duplicate_handling)
    svc.job_signal.notify()
    return meta


@router.get("/v1/sources/{source_id}/files", response_model=list[FileMetadata], operation_id="list_source_files",
            tags=["sources"])
async def list_files(source_id: str, files: Files, limit: int = 1000, after: str | None = None,
                     include_content: bool = False) -> list[FileMetadata]:
    return await files.list(source_id, after=after, limit=limit)


@router.get("/v1/sources/{source_id}/files/{file_id}", response_model=FileMetadata,
            operation_id="get_file_metadata", tags=["sources"])
async def file_metadata(source_id: str, file_id: str, files: Files, include_content: bool = False) -> FileMetadata:
    return await files.get(source_id, file_id)


@router.delete("/v1/sources/{source_id}/{file_id}", status_code=204, operation_id="delete_file_from_source",
               tags=["sources"])
async def delete_file(source_id: str, file_id: str, files: Files) -> None:
    await files.delete(source_id, file_id)


# ---- jobs ---------------------------------------------------------------------------------------
@router.get("/v1/jobs/", response_model=list[Job], operation_id="list_jobs", tags=["jobs"])
async def list_jobs(jobs: Jobs, source_id: str | None = None, before: str | None = None, after: str | None = None,
                    limit: Annotated[int | None, Query()] = 50, ascending: bool = True) -> list[Job]:
    return await jobs.list(source_id=source_id, before=before, after=after, limit=limit, ascending=ascending)


@router.get("/v1/jobs/active", response_model=list[Job], operation_id="list_active_jobs", tags=["jobs"])
async def list_active_jobs(jobs: Jobs, source_id: str | None = None, before: str | None = None,
                           after: str | None = None, limit: Annotated[int | None, Query()] = 50,
                           ascending: bool = True) -> list[Job]:
    return await jobs.list(source_id=source_id, before=before, after=after, limit=limit, ascending=ascending,
                           active=True)


@router.get("/v1/jobs/{job_id}", response_model=Job, operation_id="retrieve_job", tags=["jobs"])
async def retrieve_job(job_id: str, jobs: Jobs) -> Job:
    return await jobs.get(job_id)


@router.patch("/v1/jobs/{job_id}/cancel", response_model=Job, operation_id="cancel_job", tags=["jobs"])
async def cancel_job(job_id: str, jobs: Jobs) -> Job:
    return await jobs.cancel(job_id)


@router.delete("/v1/jobs/{job_id}", response_model=Job, operation_id="delete_job", tags=["jobs"])
async def delete_job(job_id: str, jobs: Jobs) -> Job:
    return await jobs.delete(job_id)


# ---- agents ↔ sources ---------------------------------------------------------------------------
@router.patch("/v1/agents/{agent_id}/sources/attach/{source_id}", response_model=AgentState,
              operation_id="attach_source_to_agent", tags=["agents"])
async def attach_source(agent_id: str, source_id: str, sources: Sources, svc: Svc) -> AgentState:
    await sources.attach(agent_id, source_id)
    return await svc.agents.get(agent_id)


@router.patch("/v1/agents/{agent_id}/sources/detach/{source_id}", response_model=AgentState,
              operation_id="detach_source_from_agent", tags=["agents"])
async def detach_source(agent_id: str, source_id: str, sources: Sources, svc: Svc) -> AgentState:
    await sources.detach(agent_id, source_id)
    return await svc.agents.get(agent_id)


@router.get("/v1/agents/{agent_id}/sources", response_model=list[Source], operation_id="list_agent_sources",
            tags=["agents"])
async def list_agent_sources(agent_id: str, sources: Sources) -> list[Source]:
    return await sources.of_agent(agent_id)
