"""An agent's memory: core-memory blocks, archival passages, and its message history."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Body, Depends, Response

from host.api.routing import SlashRouter, services
from host.api.v1gen.generation import V1, Order, page_in_memory
from host.schemas.agents import AgentState
from host.schemas.blocks import Block, BlockUpdate, Memory
from host.schemas.passages import CreateArchivalMemory, Passage, PassageUpdate
from host.services import Services

router = SlashRouter(prefix="/v1/agents/{agent_id}", tags=["agents"])
Svc = Annotated[Services, Depends(services)]


@router.get("/core-memory", response_model=Memory, operation_id="retrieve_agent_memory")
async def core_memory(agent_id: str, svc: Svc) -> Memory:
    return await svc.memory.core_memory(agent_id)


@router.get("/core-memory/blocks", response_model=list[Block], operation_id="list_core_memory_blocks")
async def list_blocks(agent_id: str, svc: Svc, v1: V1, order: Order | None = None, after: str | None = None,
                      before: str | None = None, limit: int | None = None) -> list[Block]:
    blocks = await svc.memory.blocks(agent_id)
    if not v1 and order is None and after is None and before is None and limit is None:
        return blocks
    return page_in_memory(blocks, order or "desc", after, before, limit)


@router.get("/core-memory/blocks/{block_label}", response_model=Block, operation_id="retrieve_core_memory_block")
async def get_block(agent_id: str, block_label: str, svc: Svc) -> Block:
    return await svc.memory.block(agent_id, block_label)


@router.patch("/core-memory/blocks/{block_label}", response_model=Block, operation_id="modify_core_memory_block")
async def modify_block(agent_id: str, block_label: str, body: BlockUpdate, svc: Svc) -> Block:
    return await svc.memory.modify_block(agent_id, block_label, body)


@router.patch("/core-memory/blocks/attach/{block_id}", response_model=AgentState, operation_id="attach_core_memory_block")
async def attach_block(agent_id: str, block_id: str, svc: Svc) -> Response:  # 1.x too: the AgentState
    state = await svc.agents.attach_block(agent_id, block_id)
    await svc.groups.block_attached(agent_id, block_id)  # and to its sleep-time agents
    return _agent_json(state)


@router.patch("/core-memory/blocks/detach/{block_id}", response_model=AgentState, operation_id="detach_core_memory_block")
async def detach_block(agent_id: str, block_id: str, svc: Svc) -> Response:
    return _agent_json(await svc.agents.detach_block(agent_id, block_id))


def _agent_json(state: AgentState) -> Response:
    """The AgentState serialized once, by pydantic's serializer (returned as a model, FastAPI would dump it,
    validate it again and encode it: three passes over every block of an agent that may hold thousands)."""
    return Response(state.model_dump_json(by_alias=True), media_type="application/json")


@router.get("/archival-memory", response_model=list[Passage], operation_id="list_passages")
async def list_passages(agent_id: str, svc: Svc, after: str | None = None, before: str | None = None,
                        limit: int | None = None, search: str | None = None, ascending: bool = True) -> list[Passage]:
    return await svc.archival.list(agent_id, after=after, before=before, limit=limit, search=search,
                                   ascending=ascending)


@router.post("/archival-memory", response_model=list[Passage], operation_id="create_passage")
async def create_passage(agent_id: str, body: CreateArchivalMemory, svc: Svc) -> list[Passage]:
    return await svc.archival.insert(agent_id, body.text, body.tags)


@router.get("/archival-memory/search", operation_id="search_archival_memory")
async def search_passages(agent_id: str, svc: Svc, query: str, top_k: int = 10,
                          tags: str | None = None) -> dict[str, Any]:
    hits = await svc.archival.search(agent_id, query, top_k=top_k, tags=tags.split(",") if tags else None)
    return {"results": [{"id": h.passage.id, "content": h.passage.text, "tags": h.passage.tags or [],
                         "timestamp": h.passage.created_at.isoformat() if h.passage.created_at else None,
                         "score": h.score} for h in hits], "count": len(hits)}


@router.patch("/archival-memory/{memory_id}", response_model=list[Passage], operation_id="modify_passage")
async def modify_passage(agent_id: str, memory_id: str, body: PassageUpdate, svc: Svc) -> list[Passage]:
    return await svc.archival.modify(agent_id, memory_id, body)


@router.delete("/archival-memory/{memory_id}", operation_id="delete_passage")
async def delete_passage(agent_id: str, memory_id: str, svc: Svc) -> dict[str, Any]:
    await svc.archival.delete(agent_id, memory_id)
    return {"message": f"Memory id={memory_id} successfully deleted"}


@router.get("/messages", operation_id="list_messages")
async def list_messages(agent_id: str, svc: Svc, after: str | None = None, before: str | None = None,
                        limit: int | None = 10, group_id: str | None = None, use_assistant_message: bool = True,
                        assistant_message_tool_name: str = "send_message",
                        assistant_message_tool_kwarg: str = "message",
                        include_err: bool | None = None, order: Order | None = None,
                        v1: V1 = False) -> list[dict[str, Any]]:
    return await svc.messages.list(agent_id, after=after, before=before, limit=limit, group_id=group_id,
                                   use_assistant_message=use_assistant_message,
                                   assistant_message_tool_name=assistant_message_tool_name,
                                   assistant_message_tool_kwarg=assistant_message_tool_kwarg,
                                   order=order or ("desc" if v1 else None))


@router.patch("/messages/{message_id}", operation_id="modify_message")
async def modify_message(agent_id: str, message_id: str, svc: Svc,
                         body: Annotated[dict[str, Any], Body()]) -> dict[str, Any]:
    return await svc.messages.modify(agent_id, message_id, body)


@router.patch("/reset-messages", response_model=AgentState, operation_id="reset_messages")
async def reset_messages(agent_id: str, svc: Svc, add_default_initial_messages: bool = False) -> AgentState:
    return await svc.messages.reset(agent_id, add_default_initial_messages=add_default_initial_messages)
