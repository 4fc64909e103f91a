"""``/v1/folders``: Letta 1.x's name for sources. The same handlers as ``/v1/sources`` (host/api/sources.py)
are mounted again under the new paths; only the list pages 1.x-style. On agents: ``folders``,
``folders/attach|detach`` (answering ``null`` to 1.x clients, as Letta does) and ``files`` (the files of
the agent's folders, with their open/closed state: ``host.services.file_views``).
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Depends, Query

from host.api import sources as legacy
from host.api.routing import SlashRouter, services
from host.api.v1gen.generation import V1, Order, page_in_memory
from host.schemas.agents import AgentState
from host.schemas.sources import FileMetadata, Source
from host.services import Services
from host.services.file_views import FileViewService

router = SlashRouter(tags=["folders"])
Svc = Annotated[Services, Depends(services)]

# (method, 1.x path, the 0.8 handler, operation id) - the handlers keep their `source_id` parameter
_SAME = (
    ("POST", "/v1/folders/", legacy.create_source, "create_folder", Source),
    ("GET", "/v1/folders/count", legacy.count_sources, "count_folders", int),
    ("GET", "/v1/folders/metadata", legacy.sources_metadata, "retrieve_metadata", None),
    ("GET", "/v1/folders/{source_id}", legacy.retrieve_source, "retrieve_folder", Source),
    ("PATCH", "/v1/folders/{source_id}", legacy.modify_source, "modify_folder", Source),
    ("DELETE", "/v1/folders/{source_id}", legacy.delete_source, "delete_folder", None),
    ("GET", "/v1/folders/{source_id}/agents", legacy.agents_for_source, "list_agents_for_folder", list[str]),
    ("POST", "/v1/folders/{source_id}/upload", legacy.upload_file, "upload_file_to_folder", FileMetadata),
    ("GET", "/v1/folders/{source_id}/files/{file_id}", legacy.file_metadata, "retrieve_file", FileMetadata),
    ("DELETE", "/v1/folders/{source_id}/{file_id}", legacy.delete_file, "delete_file_from_folder", None),
)
for _method, _path, _endpoint, _op, _model in _SAME:
    router.add_api_route(_path, _endpoint, methods=[_method], operation_id=_op, response_model=_model,
                         status_code=204 if _op == "delete_file_from_folder" else None)


@router.get("/v1/folders/", response_model=list[Source], operation_id="list_folders")
async def list_folders(sources: legacy.Sources, order: Order = "asc", after: str | None = None,
                       before: str | None = None, limit: Annotated[int | None, Query(ge=1)] = 50,
                       name: str | None = None) -> list[Source]:
    found = [s for s in await sources.list() if name is None or s.name == name]
    return page_in_memory(found, order, after, before, limit)


@router.get("/v1/folders/name/{folder_name}", operation_id="get_folder_by_name")
async def folder_by_name(folder_name: str, sources: legacy.Sources) -> Source:
    return await sources.get(await sources.id_by_name(folder_name))


@router.get("/v1/folders/{source_id}/files", response_model=list[FileMetadata], operation_id="list_files_for_folder")
async def list_folder_files(source_id: str, files: legacy.Files, order: Order = "desc", after: str | None = None,
                            before: str | None = None, limit: Annotated[int | None, Query(ge=1)] = 1000,
                            include_content: bool = False) -> list[FileMetadata]:
    return page_in_memory(await files.list(source_id, after=None, limit=None), order, after, before, limit)


@router.get("/v1/folders/{source_id}/passages", operation_id="list_folder_passages")
async def list_folder_passages(source_id: str, sources: legacy.Sources, order: Order = "desc",
                               after: str | None = None, before: str | None = None,
                               limit: Annotated[int | None, Query(ge=1)] = 100) -> list[Any]:
    newer, older = (after, before) if order == "asc" else (before, after)
    found = await sources.passages(source_id, after=newer, before=older, limit=None)
    return page_in_memory(found, order, None, None, limit)


# ---- agents ↔ folders ---------------------------------------------------------------------------
@router.get("/v1/agents/{agent_id}/folders", response_model=list[Source], operation_id="list_folders_for_agent")
async def list_agent_folders(agent_id: str, sources: legacy.Sources, order: Order = "desc",
                             after: str | None = None, before: str | None = None,
                             limit: Annotated[int | None, Query(ge=1)] = 50) -> list[Source]:
    return page_in_memory(await sources.of_agent(agent_id), order, after, before, limit)


@router.patch("/v1/agents/{agent_id}/folders/attach/{source_id}", operation_id="attach_folder_to_agent")
async def attach_folder(agent_id: str, source_id: str, sources: legacy.Sources, svc: Svc,
                        v1: V1) -> AgentState | None:
    state = await legacy.attach_source(agent_id, source_id, sources, svc)
    return None if v1 else state


@router.patch("/v1/agents/{agent_id}/folders/detach/{source_id}", operation_id="detach_folder_from_agent")
async def detach_folder(agent_id: str, source_id: str, sources: legacy.Sources, svc: Svc,
                        v1: V1) -> AgentState | None:
    state = await legacy.detach_source(agent_id, source_id, sources, svc)
    return None if v1 else state


async def _views(svc: Svc) -> FileViewService:
    return FileViewService(svc.db)


Views = Annotated[FileViewService, Depends(_views)]


@router.get("/v1/agents/{agent_id}/files", operation_id="list_files_for_agent")
async def list_agent_files(agent_id: str, views: Views, order: Order = "desc", after: str | None = None,
                           before: str | None = None, limit: Annotated[int | None, Query(ge=1)] = 20,
                           cursor: str | None = None, is_open: bool | None = None) -> dict[str, Any]:
    found = [f for f in await views.list(agent_id) if is_open is None or f["is_open"] == is_open]
    page = page_in_memory(found, order, after or cursor, before, None)
    shown = page[:limit] if limit else page
    return {"files": shown, "next_cursor": shown[-1]["id"] if shown else None, "has_more": len(page) > len(shown)}


@router.patch("/v1/agents/{agent_id}/files/close-all", operation_id="close_all_files_for_agent")
async def close_all_files(agent_id: str, views: Views) -> list[str]:
    return await views.close_all(agent_id)


@router.patch("/v1/agents/{agent_id}/files/{file_id}/open", operation_id="open_file_for_agent")
async def open_file(agent_id: str, file_id: str, views: Views) -> list[str]:
    return await views.set_open(agent_id, file_id, True)


@router.patch("/v1/agents/{agent_id}/files/{file_id}/close", operation_id="close_file_for_agent")
async def close_file(agent_id: str, file_id: str, views: Views) -> None:
    await views.set_open(agent_id, file_id, False)
