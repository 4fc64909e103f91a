"""Conversations (1.x): named threads of an agent, their messages (streamed by default), and controls.

    POST   /v1/conversations/?agent_id=        Conversation
    GET    /v1/conversations/                  [Conversation] (agent_id, summary_search, order, after, limit)
    GET    /v1/conversations/{id}              Conversation
    PATCH  /v1/conversations/{id}              Conversation (summary, model, model_settings)
    DELETE /v1/conversations/{id}              null
    POST   /v1/conversations/{id}/messages     SSE (or a LettaResponse with "streaming": false)
    GET    /v1/conversations/{id}/messages     [LettaMessage]
    POST   /v1/conversations/{id}/stream       SSE: the agent's latest run, from a cursor
    POST   /v1/conversations/{id}/cancel       {run_id: "cancelled"}
    POST   /v1/conversations/{id}/fork         Conversation
    POST   /v1/conversations/{id}/recompile    the agent's system prompt (string)

A turn in a conversation is a turn of its agent (``host.services.conversations`` says what is shared).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated, Any

from fastapi import Depends, Query, Response
from fastapi.responses import StreamingResponse

from host.api.messages_send import send_message
from host.api.routing import SlashRouter, services
from host.api.sse import payload_sse_response
from host.api.v1gen.generation import V1, Order, page_ordered
from host.api.v1gen.run_stream import RunStreamRequest
from host.schemas.common import RequestModel
from host.schemas.messages import LettaStreamingRequest
from host.services import Services
from host.services.tool_runs import recompile

router = SlashRouter(tags=["conversations"])
Svc = Annotated[Services, Depends(services)]


class CreateConversation(RequestModel):
    summary: str | None = None
    isolated_block_labels: list[str] | None = None
    model: str | None = None
    model_settings: dict[str, Any] | None = None


class UpdateConversation(RequestModel):
    summary: str | None = None
    model: str | None = None
    model_settings: dict[str, Any] | None = None


class ConversationMessageRequest(LettaStreamingRequest):
    streaming: bool = True  # conversations stream by default
    agent_id: str | None = None


@router.post("/v1/conversations/", operation_id="create_conversation")
async def create_conversation(svc: Svc, agent_id: Annotated[str, Query()],
                              body: CreateConversation | None = None) -> dict[str, Any]:
    body = body or CreateConversation()
    settings = body.model_dump(exclude={"summary"}, exclude_none=True)
    return await svc.conversations.create(agent_id, body.summary, settings)


@router.get("/v1/conversations/", operation_id="list_conversations")
async def list_conversations(svc: Svc, agent_id: str | None = None, summary_search: str | None = None,
                             order: Order = "desc", after: str | None = None, before: str | None = None,
                             limit: Annotated[int | None, Query(ge=1, le=1000)] = 50) -> list[dict[str, Any]]:
    found = await svc.conversations.list(agent_id, summary_search)
    return page_ordered(found if order == "asc" else found[::-1], after, before, limit)


@router.get("/v1/conversations/{conversation_id}", operation_id="retrieve_conversation")
async def retrieve_conversation(conversation_id: str, svc: Svc) -> dict[str, Any]:
    return await svc.conversations.get(conversation_id)


@router.patch("/v1/conversations/{conversation_id}", operation_id="update_conversation")
async def update_conversation(conversation_id: str, body: UpdateConversation, svc: Svc) -> dict[str, Any]:
    return await svc.conversations.update(conversation_id, body.model_dump(exclude_unset=True))


@router.delete("/v1/conversations/{conversation_id}", operation_id="delete_conversation")
async def delete_conversation(conversation_id: str, svc: Svc) -> None:
    await svc.conversations.delete(conversation_id)


@router.post("/v1/conversations/{conversation_id}/messages", operation_id="send_conversation_message",
             response_class=StreamingResponse)
async def send_conversation_message(conversation_id: str, body: ConversationMessageRequest, svc: Svc,
                                    v1: V1) -> Any:
    agent_id, _ = await svc.conversations.since(conversation_id)
    await svc.conversations.touched(conversation_id)
    turn = LettaStreamingRequest.model_validate(body.model_dump(exclude={"agent_id"}, exclude_unset=True)
                                                | {"streaming": body.streaming})
    return await send_message(agent_id, turn, svc, v1=True)


@router.get("/v1/conversations/{conversation_id}/messages", operation_id="list_conversation_messages")
async def list_conversation_messages(
        conversation_id: str, svc: Svc, after: str | None = None, before: str | None = None,
        limit: Annotated[int | None, Query(ge=1, le=10000)] = 100, order: Order = "desc",
        include_return_message_types: Annotated[list[str] | None, Query()] = None) -> list[dict[str, Any]]:
    agent_id, since = await svc.conversations.since(conversation_id)
    found = [m for m in await svc.messages.list(agent_id, limit=None, order=order, since=since)
             if not include_return_message_types or m["message_type"] in include_return_message_types]
    return page_ordered(found, after, before, limit)


@router.post("/v1/conversations/{conversation_id}/stream", operation_id="retrieve_conversation_stream",
             response_class=StreamingResponse)
async def conversation_stream(conversation_id: str, svc: Svc, body: RunStreamRequest | None = None) -> Response:
    agent_id, _ = await svc.conversations.since(conversation_id)
    body = body or RunStreamRequest()
    run_id = body.run_id or next(iter(r["id"] for r in await svc.runs.list(agent_ids=[agent_id])), None)
    if run_id is None:
        return payload_sse_response(_nothing())
    await svc.runs.get(run_id)
    return payload_sse_response(svc.run_events.follow(run_id, body.starting_after))


async def _nothing() -> AsyncIterator[Any]:
    return
    yield


@router.post("/v1/conversations/{conversation_id}/cancel", operation_id="cancel_conversation")
async def cancel_conversation(conversation_id: str, svc: Svc) -> dict[str, Any]:
    agent_id, _ = await svc.conversations.since(conversation_id)
    return await svc.runner.cancel(agent_id, None)


@router.post("/v1/conversations/{conversation_id}/fork", operation_id="fork_conversation")
async def fork_conversation(conversation_id: str, svc: Svc) -> dict[str, Any]:
    return await svc.conversations.fork(conversation_id)


@router.post("/v1/conversations/{conversation_id}/recompile", operation_id="recompile_conversation")
async def recompile_conversation(conversation_id: str, svc: Svc, dry_run: bool = False) -> str:
    agent_id, _ = await svc.conversations.since(conversation_id)
    return await recompile(svc.db, agent_id, dry_run=dry_run)


__all__ = ["ConversationMessageRequest", "router"]
