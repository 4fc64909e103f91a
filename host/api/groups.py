"""``/v1/groups`` (Letta 0.8's multi-agent groups) and ``/v1/agents/{id}/groups``.

    GET/POST          /v1/groups                          [Group] | create (GroupCreate)
    GET               /v1/groups/count                    int
    GET/PATCH/DELETE  /v1/groups/{id}
    GET/POST          /v1/groups/{id}/messages            the group's messages | LettaResponse
    POST              /v1/groups/{id}/messages/stream     SSE: the members' messages (or tokens) as made
    PATCH             /v1/groups/{id}/messages/{mid}      edit one message (in its agent's history)
    PATCH             /v1/groups/{id}/reset-messages      forget the group's conversation
    PATCH             /v1/groups/{id}/blocks/attach|detach/{block_id}   a shared block on/off every member (null)
    GET               /v1/agents/{id}/groups              the groups an agent belongs to or manages
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Body, Depends, Query, Response
from fastapi.responses import StreamingResponse
from sqlalchemy import select

from host.api.routing import SlashRouter, services
from host.api.sse import sse_response
from host.errors import NotFoundError
from host.persistence.models import MessageRow
from host.schemas.groups import Group, GroupCreate, GroupUpdate, ManagerType
from host.schemas.messages import LettaRequest, LettaStreamingRequest
from host.services import Services
from host.services.groups import stream_group

router = SlashRouter(tags=["groups"])
Svc = Annotated[Services, Depends(services)]


@router.get("/v1/groups/", response_model=list[Group], operation_id="list_groups")
async def list_groups(svc: Svc, manager_type: ManagerType | None = None, before: str | None = None,
                      after: str | None = None, limit: Annotated[int | None, Query(ge=1)] = None,
                      project_id: str | None = None) -> list[Group]:
    return await svc.groups.store.list(manager_type=manager_type, before=before, after=after, limit=limit)


@router.post("/v1/groups/", response_model=Group, operation_id="create_group")
async def create_group(body: GroupCreate, svc: Svc) -> Group:
    return await svc.groups.create(body)


@router.get("/v1/groups/count", response_model=int, operation_id="count_groups")
async def count_groups(svc: Svc) -> int:
    return await svc.groups.store.count()


@router.get("/v1/groups/{group_id}", response_model=Group, operation_id="retrieve_group")
async def retrieve_group(group_id: str, svc: Svc) -> Group:
    return await svc.groups.store.get(group_id)


@router.patch("/v1/groups/{group_id}", response_model=Group, operation_id="modify_group")
async def modify_group(group_id: str, body: GroupUpdate, svc: Svc) -> Group:
    return await svc.groups.modify(group_id, body)


@router.delete("/v1/groups/{group_id}", operation_id="delete_group")
async def delete_group(group_id: str, svc: Svc) -> dict[str, Any]:
    await svc.groups.delete(group_id)
    return {"message": f"Group id={group_id} successfully deleted"}


@router.patch("/v1/groups/{group_id}/blocks/attach/{block_id}", operation_id="attach_block_to_group")
async def attach_block_to_group(group_id: str, block_id: str, svc: Svc) -> None:
    await svc.groups.store.share_block(group_id, block_id, shared=True)


@router.patch("/v1/groups/{group_id}/blocks/detach/{block_id}", operation_id="detach_block_from_group")
async def detach_block_from_group(group_id: str, block_id: str, svc: Svc) -> None:
    await svc.groups.store.share_block(group_id, block_id, shared=False)


@router.post("/v1/groups/{group_id}/messages", operation_id="send_group_message")
async def send_group_message(group_id: str, body: LettaRequest, svc: Svc) -> dict[str, Any]:
    return (await svc.groups.turns.send(group_id, body)).as_letta()


@router.post("/v1/groups/{group_id}/messages/stream", operation_id="send_group_message_streaming",
             response_class=StreamingResponse)
async def stream_group_message(group_id: str, body: LettaStreamingRequest, svc: Svc) -> Response:
    """Each speaking member's messages as it makes them (token deltas with ``stream_tokens``)."""
    return sse_response(await stream_group(svc.groups.turns, group_id, body))


@router.get("/v1/groups/{group_id}/messages", operation_id="list_group_messages")
async def list_group_messages(group_id: str, svc: Svc, after: str | None = None, before: str | None = None,
                              limit: Annotated[int | None, Query(ge=1)] = 10, use_assistant_message: bool = True,
                              assistant_message_tool_name: str = "send_message",
                              assistant_message_tool_kwarg: str = "message") -> list[dict[str, Any]]:
    return await svc.groups.store.messages(group_id, after=after, before=before, limit=limit,
                                           use_assistant_message=use_assistant_message,
                                           assistant_tool=assistant_message_tool_name,
                                           assistant_kwarg=assistant_message_tool_kwarg)


@router.patch("/v1/groups/{group_id}/messages/{message_id}", operation_id="modify_group_message")
async def modify_group_message(group_id: str, message_id: str, svc: Svc,
                               body: Annotated[dict[str, Any], Body()]) -> dict[str, Any]:
    await svc.groups.store.get(group_id)
    async with svc.db.session() as s:
        agent_id = (await s.execute(select(MessageRow.agent_id).where(
            MessageRow.id == message_id, MessageRow.group_id == group_id))).scalar_one_or_none()
    if agent_id is None:
        raise NotFoundError(f"Message with ID {message_id} not found in group {group_id}")
    return await svc.messages.modify(agent_id, message_id, body)


@router.patch("/v1/groups/{group_id}/reset-messages", operation_id="reset_group_messages")
async def reset_group_messages(group_id: str, svc: Svc) -> Any:
    await svc.groups.store.reset_messages(group_id)
    return None


@router.get("/v1/agents/{agent_id}/groups", response_model=list[Group], operation_id="list_agent_groups")
async def list_agent_groups(agent_id: str, svc: Svc, manager_type: ManagerType | None = None) -> list[Group]:
    await svc.agents.exists(agent_id)
    return await svc.groups.store.list(agent_id=agent_id, manager_type=manager_type)
