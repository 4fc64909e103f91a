"""``/v1/blocks``: standalone memory blocks, shareable between agents."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Depends, Query
from fastapi.responses import JSONResponse

from host.api.routing import SlashRouter, services
from host.api.v1gen.agent_shape import v1_agent
from host.api.v1gen.generation import V1, Order, legacy_or_v1_order, page_in_memory
from host.schemas.agents import AgentState
from host.schemas.blocks import Block, BlockUpdate, CreateBlock
from host.services import Services

router = SlashRouter(prefix="/v1/blocks", tags=["blocks"])
Svc = Annotated[Services, Depends(services)]


@router.get("/", response_model=list[Block], operation_id="list_blocks")
async def list_blocks(svc: Svc, label: str | None = None, templates_only: bool = False, name: str | None = None,
                      identity_id: str | None = None,
                      identifier_keys: Annotated[list[str] | None, Query()] = None,
                      before: str | None = None, after: str | None = None, limit: int | None = 50,
                      order: Order | None = None, v1: V1 = False) -> list[Block]:
    ascending, after, before = legacy_or_v1_order(v1, order, True, after, before, v1_default="asc")
    return await svc.blocks.list(label=label, templates_only=templates_only, name=name, identity_id=identity_id,
                                 before=before, after=after, limit=limit, ascending=ascending)


@router.post("/", response_model=Block, operation_id="create_block")
async def create_block(body: CreateBlock, svc: Svc) -> Block:
    return await svc.blocks.create(body)


@router.get("/count", response_model=int, operation_id="count_blocks")
async def count_blocks(svc: Svc) -> int:
    return await svc.blocks.count()


@router.get("/{block_id}", response_model=Block, operation_id="retrieve_block")
async def retrieve_block(block_id: str, svc: Svc) -> Block:
    return await svc.blocks.get(block_id)


@router.patch("/{block_id}", response_model=Block, operation_id="modify_block")
async def modify_block(block_id: str, body: BlockUpdate, svc: Svc) -> Block:
    return await svc.blocks.modify(block_id, body)


@router.delete("/{block_id}", operation_id="delete_block")
async def delete_block(block_id: str, svc: Svc) -> dict[str, Any]:
    await svc.blocks.delete(block_id)
    return {"message": f"Block id={block_id} successfully deleted"}


@router.get("/{block_id}/agents", response_model=list[AgentState], operation_id="list_agents_for_block")
async def agents_for_block(block_id: str, svc: Svc, v1: V1, order: Order | None = None, after: str | None = None,
                           before: str | None = None, limit: int | None = None,
                           include: Annotated[list[str] | None, Query()] = None) -> Any:
    ids = await svc.blocks.agent_ids(block_id)
    agents = [await svc.agents.get(i) for i in ids]
    if not v1 and order is None and after is None and before is None and limit is None:
        return agents
    page = page_in_memory(agents, order or "desc", after, before, limit)
    return JSONResponse([v1_agent(a, include) for a in page]) if v1 else page
