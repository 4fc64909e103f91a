"""``POST /v1/voice-beta/{agent_id}/chat/completions``: an OpenAI chat-completions endpoint answered by an
agent (the voice agent of a ``voice_sleeptime`` group, whose sleep-time agent keeps its memory).

The agent remembers the conversation itself, so only the request's newest user message is sent to it (the
client's copy of earlier turns is not replayed). ``stream: true`` answers with OpenAI's
``chat.completion.chunk`` events, each assistant message as it is produced, then ``data: [DONE]``.
"""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator
from typing import Annotated, Any

from fastapi import Depends, Response
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field
from sse_starlette import EventSourceResponse, ServerSentEvent

from host.api.routing import SlashRouter, services
from host.domain.events import ErrorEvent, LettaMessageEvent
from host.domain.letta import AssistantMessage
from host.errors import InvalidRequestError
from host.ids import new_id
from host.schemas.messages import LettaRequest, LettaStreamingRequest, MessageCreate
from host.services import Services

router = SlashRouter(tags=["voice"])
Svc = Annotated[Services, Depends(services)]


class ChatMessage(BaseModel):
    model_config = ConfigDict(extra="allow")
    role: str
    content: str | list[dict[str, Any]] | None = None


class ChatCompletionRequest(BaseModel):
    """OpenAI's request body; fields beyond these (temperature, tools...) are accepted and ignored."""

    model_config = ConfigDict(extra="allow")
    model: str | None = None
    messages: list[ChatMessage] = Field(min_length=1)
    stream: bool = False
    user: str | None = None


def _user_text(body: ChatCompletionRequest) -> str:
    for m in reversed(body.messages):
        if m.role == "user":
            if isinstance(m.content, list):
                return " ".join(str(p.get("text", "")) for p in m.content if isinstance(p, dict))
            if m.content:
                return m.content
    raise InvalidRequestError("messages: no user message with content to answer")


def _chunk(cid: str, model: str, delta: dict[str, Any], finish: str | None = None) -> ServerSentEvent:
    data = {"id": cid, "object": "chat.completion.chunk", "created": int(time.time()), "model": model,
            "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]}
    return ServerSentEvent(data=json.dumps(data, ensure_ascii=False, separators=(",", ":")), sep="\n")


@router.post("/v1/voice-beta/{agent_id}/chat/completions", operation_id="create_voice_chat_completions")
async def voice_chat_completions(agent_id: str, body: ChatCompletionRequest, svc: Svc) -> Response:
    text = _user_text(body)
    model = body.model or agent_id
    cid = f"chatcmpl-{new_id('x')[2:]}"
    message = MessageCreate(role="user", content=text)
    if not body.stream:
        result = await svc.runner.send(agent_id, LettaRequest(messages=[message]))
        said = "\n".join(m.content for m in result.messages if isinstance(m, AssistantMessage) and m.content)
        u = result.usage
        return JSONResponse({
            "id": cid, "object": "chat.completion", "created": int(time.time()), "model": model,
            "choices": [{"index": 0, "message": {"role": "assistant", "content": said}, "finish_reason": "stop"}],
            "usage": {"prompt_tokens": u.prompt_tokens, "completion_tokens": u.completion_tokens,
                      "total_tokens": u.total_tokens}})
    events = await svc.runner.stream(agent_id, LettaStreamingRequest(messages=[message]))

    async def chunks() -> AsyncIterator[ServerSentEvent]:
        yield _chunk(cid, model, {"role": "assistant", "content": ""})
        async for event in events:
            if isinstance(event, LettaMessageEvent) and isinstance(event.message, AssistantMessage):
                yield _chunk(cid, model, {"content": event.message.content})
            elif isinstance(event, ErrorEvent):
                yield _chunk(cid, model, {}, "error")
        yield _chunk(cid, model, {}, "stop")
        yield ServerSentEvent(data="[DONE]", sep="\n")

    return EventSourceResponse(chunks(), sep="\n", ping=0, headers={"Cache-Control": "no-cache"})
