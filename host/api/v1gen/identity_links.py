"""1.x routes linking identities to agents and blocks one at a time (Letta 0.16.8).

    PATCH /v1/agents/{agent_id}/identities/attach|detach/{identity_id}   null
    PATCH /v1/blocks/{block_id}/identities/attach|detach/{identity_id}   the block
    GET   /v1/identities/{identity_id}/agents                            [AgentState] (paged, ``include``)
    GET   /v1/identities/{identity_id}/blocks                            [Block] (paged)
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Depends, Query
from fastapi.responses import JSONResponse

from host.api.routing import SlashRouter, services
from host.api.v1gen.agent_shape import v1_agent
from host.api.v1gen.generation import Order
from host.schemas.agents import AgentState
from host.schemas.blocks import Block
from host.services import Services

router = SlashRouter(tags=["identities"])
Svc = Annotated[Services, Depends(services)]


@router.patch("/v1/agents/{agent_id}/identities/attach/{identity_id}", operation_id="attach_identity_to_agent")
async def attach_identity_to_agent(agent_id: str, identity_id: str, svc: Svc) -> None:
    await svc.identities.link_agent(identity_id, agent_id, attached=True)


@router.patch("/v1/agents/{agent_id}/identities/detach/{identity_id}", operation_id="detach_identity_from_agent")
async def detach_identity_from_agent(agent_id: str, identity_id: str, svc: Svc) -> None:
    await svc.identities.link_agent(identity_id, agent_id, attached=False)


@router.patch("/v1/blocks/{block_id}/identities/attach/{identity_id}", response_model=Block,
              operation_id="attach_identity_to_block")
async def attach_identity_to_block(block_id: str, identity_id: str, svc: Svc) -> Block:
    await svc.identities.link_block(identity_id, block_id, attached=True)
    return await svc.blocks.get(block_id)


@router.patch("/v1/blocks/{block_id}/identities/detach/{identity_id}", response_model=Block,
              operation_id="detach_identity_from_block")
async def detach_identity_from_block(block_id: str, identity_id: str, svc: Svc) -> Block:
    await svc.identities.link_block(identity_id, block_id, attached=False)
    return await svc.blocks.get(block_id)


@router.get("/v1/identities/{identity_id}/agents", response_model=list[AgentState],
            operation_id="list_agents_for_identity")
async def list_agents_for_identity(identity_id: str, svc: Svc, order: Order = "desc", after: str | None = None,
                                   before: str | None = None, limit: int | None = 50,
                                   include: Annotated[list[str] | None, Query()] = None) -> Any:
    ids = await svc.identities.linked_ids(identity_id, blocks=False, before=before, after=after, limit=limit,
                                          ascending=order == "asc")
    return JSONResponse([v1_agent(await svc.agents.get(i), include) for i in ids])


@router.get("/v1/identities/{identity_id}/blocks", response_model=list[Block], operation_id="list_blocks_for_identity")
async def list_blocks_for_identity(identity_id: str, svc: Svc, order: Order = "desc", after: str | None = None,
                                   before: str | None = None, limit: int | None = 50) -> list[Block]:
    ids = await svc.identities.linked_ids(identity_id, blocks=True, before=before, after=after, limit=limit,
                                          ascending=order == "asc")
    return [await svc.blocks.get(i) for i in ids]
