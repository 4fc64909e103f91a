"""``/v1/archives`` (named passage stores), agent ``archives/attach|detach`` and ``/v1/passages/search``.

    GET/POST         /v1/archives                          [Archive] (1.x pages) | create
    GET/PATCH/DELETE /v1/archives/{id}
    GET              /v1/archives/{id}/agents              [AgentState] (relationships as ``include`` asks)
    POST             /v1/archives/{id}/passages            Passage;  .../passages/batch -> [Passage]
    DELETE           /v1/archives/{id}/passages/{pid}
    PATCH            /v1/agents/{aid}/archives/attach|detach/{id}   null to 1.x clients, else the AgentState
    POST             /v1/passages/search                   [{passage, score, metadata}] (an archive or an agent)
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Depends, Query, Response
from fastapi.responses import JSONResponse

from host.api.routing import SlashRouter, services
from host.api.v1gen.agent_shape import v1_agent
from host.api.v1gen.generation import V1, Order, PageArgs, page_in_memory
from host.errors import InvalidRequestError
from host.schemas.agents import AgentState
from host.schemas.v1.archives import (
    Archive,
    ArchiveCreate,
    ArchivePassageBatch,
    ArchivePassageCreate,
    ArchiveUpdate,
    PassageSearch,
)
from host.services import Services
from host.services.archives import ArchiveService

router = SlashRouter(tags=["archives"])
Svc = Annotated[Services, Depends(services)]


async def _archives(svc: Svc) -> ArchiveService:
    return ArchiveService(svc.db, svc.registry, svc.archival, svc.byok)


Archives = Annotated[ArchiveService, Depends(_archives)]


@router.get("/v1/archives/", response_model=list[Archive], operation_id="list_archives")
async def list_archives(archives: Archives, order: Order = "desc", after: str | None = None,
                        before: str | None = None, limit: Annotated[int | None, Query(ge=1)] = 50,
                        name: str | None = None, agent_id: str | None = None) -> list[Archive]:
    page = PageArgs(order, after, before, limit)
    newer, older = page.cursors()
    return await archives.list(name=name, agent_id=agent_id, ascending=page.ascending, after=newer, before=older,
                               limit=limit)


@router.post("/v1/archives/", response_model=Archive, operation_id="create_archive")
async def create_archive(body: ArchiveCreate, archives: Archives) -> Archive:
    return await archives.create(body)


@router.get("/v1/archives/{archive_id}", response_model=Archive, operation_id="retrieve_archive")
async def retrieve_archive(archive_id: str, archives: Archives) -> Archive:
    return await archives.get(archive_id)


@router.patch("/v1/archives/{archive_id}", response_model=Archive, operation_id="modify_archive")
async def modify_archive(archive_id: str, body: ArchiveUpdate, archives: Archives) -> Archive:
    return await archives.modify(archive_id, body)


@router.delete("/v1/archives/{archive_id}", response_model=Archive, operation_id="delete_archive")
async def delete_archive(archive_id: str, archives: Archives) -> Archive:
    gone = await archives.get(archive_id)
    await archives.delete(archive_id)
    return gone


@router.get("/v1/archives/{archive_id}/agents", operation_id="list_agents_for_archive")
async def archive_agents(archive_id: str, archives: Archives, svc: Svc, order: Order = "desc",
                         after: str | None = None, before: str | None = None,
                         limit: Annotated[int | None, Query(ge=1)] = 50,
                         include: Annotated[list[str] | None, Query()] = None) -> Response:
    agents = [await svc.agents.get(agent_id) for agent_id in await archives.agent_ids(archive_id)]
    page = page_in_memory(agents, order, after, before, limit)
    return JSONResponse([v1_agent(a, include) for a in page])


@router.post("/v1/archives/{archive_id}/passages", operation_id="create_passage_in_archive")
async def create_archive_passage(archive_id: str, body: ArchivePassageCreate, archives: Archives) -> dict[str, Any]:
    return (await archives.add_passages(archive_id, [body]))[0]


@router.post("/v1/archives/{archive_id}/passages/batch", operation_id="create_passages_in_archive")
async def create_archive_passages(archive_id: str, body: ArchivePassageBatch,
                                  archives: Archives) -> list[dict[str, Any]]:
    return await archives.add_passages(archive_id, body.passages)


@router.delete("/v1/archives/{archive_id}/passages/{passage_id}", status_code=204,
               operation_id="delete_passage_from_archive")
async def delete_archive_passage(archive_id: str, passage_id: str, archives: Archives) -> Response:
    await archives.delete_passage(archive_id, passage_id)
    return Response(status_code=204)


async def _attach(agent_id: str, archive_id: str, archives: ArchiveService, svc: Services, v1: bool,
                  attached: bool) -> AgentState | None:
    await archives.attach(agent_id, archive_id, attached)
    return None if v1 else await svc.agents.get(agent_id)


@router.patch("/v1/agents/{agent_id}/archives/attach/{archive_id}", operation_id="attach_archive_to_agent")
async def attach_archive(agent_id: str, archive_id: str, archives: Archives, svc: Svc, v1: V1) -> AgentState | None:
    return await _attach(agent_id, archive_id, archives, svc, v1, True)


@router.patch("/v1/agents/{agent_id}/archives/detach/{archive_id}", operation_id="detach_archive_from_agent")
async def detach_archive(agent_id: str, archive_id: str, archives: Archives, svc: Svc, v1: V1) -> AgentState | None:
    return await _attach(agent_id, archive_id, archives, svc, v1, False)


@router.post("/v1/passages/search", operation_id="search_passages")
async def search_passages(body: PassageSearch, archives: Archives, svc: Svc) -> list[dict[str, Any]]:
    if not body.agent_id and not body.archive_id:
        raise InvalidRequestError("passages/search needs agent_id or archive_id")
    hits = await svc.archival.search(body.agent_id or "", body.query or "", top_k=body.limit * 2 if body.tags
                                     else body.limit, archive_id=body.archive_id if not body.agent_id else None)
    if body.tags:
        want = set(body.tags)
        match = (lambda t: want <= t) if body.tag_match_mode == "all" else (lambda t: bool(want & t))
        hits = [h for h in hits if match(set(h.passage.tags or []))]
    if body.start_date:
        hits = [h for h in hits if h.passage.created_at and h.passage.created_at >= body.start_date.replace(tzinfo=None)]
    if body.end_date:
        hits = [h for h in hits if h.passage.created_at and h.passage.created_at <= body.end_date.replace(tzinfo=None)]
    full = await archives.passage_rows([h.passage.id for h in hits])
    return [{"passage": {**full[h.passage.id], "embedding": None}, "score": h.score, "metadata": {}}
            for h in hits[:body.limit] if h.passage.id in full]
