"""``/v1/messages/batches``: many agents' messages in one request, run in the background
(host.services.batches)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Depends, Query
from pydantic import Field

from host.api.routing import SlashRouter, services
from host.schemas.common import RequestModel
from host.schemas.messages import LettaRequest
from host.services import Services

router = SlashRouter(tags=["messages"])
Svc = Annotated[Services, Depends(services)]

MAX_REQUESTS = 1000


class LettaBatchRequest(LettaRequest):
    agent_id: str = Field(min_length=1)


class CreateBatch(RequestModel):
    requests: list[LettaBatchRequest] = Field(min_length=1, max_length=MAX_REQUESTS)
    callback_url: str | None = Field(default=None, min_length=1, max_length=2083)


@router.post("/v1/messages/batches", operation_id="create_messages_batch")
async def create_batch(body: CreateBatch, svc: Svc) -> dict[str, Any]:
    requests = [(r.agent_id, LettaRequest.model_validate(r.model_dump(exclude={"agent_id"}, exclude_unset=True)))
                for r in body.requests]
    return await svc.batches.create(requests, body.callback_url)


@router.get("/v1/messages/batches", operation_id="list_batch_runs")
async def list_batches(svc: Svc) -> list[dict[str, Any]]:
    return await svc.batches.list()


@router.get("/v1/messages/batches/{batch_id}", operation_id="retrieve_batch_run")
async def retrieve_batch(batch_id: str, svc: Svc) -> dict[str, Any]:
    return await svc.batches.get(batch_id)


@router.get("/v1/messages/batches/{batch_id}/messages", operation_id="list_batch_messages")
async def batch_messages(batch_id: str, svc: Svc, limit: Annotated[int, Query(ge=1, le=1000)] = 100,
                         cursor: str | None = None, agent_id: str | None = None,
                         sort_descending: bool = True) -> dict[str, Any]:
    return {"messages": await svc.batches.messages(batch_id, limit=limit, cursor=cursor, agent_id=agent_id,
                                                   sort_descending=sort_descending)}


@router.patch("/v1/messages/batches/{batch_id}/cancel", operation_id="cancel_batch_run")
async def cancel_batch(batch_id: str, svc: Svc) -> dict[str, Any]:
    return await svc.batches.cancel(batch_id)
