"""OpenAI's chat completions answered by an agent: one implementation (``answer``) behind two routes.

    POST /v1/chat/completions                       the agent is ``model`` (an agent id), as Letta 0.16
    POST /v1/voice-beta/{agent_id}/chat/completions the agent is in the path (host/api/voice.py)

The agent remembers the conversation itself, so only the request's newest user message is sent to it (the
client's copy of earlier turns is not replayed). ``stream: true`` answers with OpenAI's
``chat.completion.chunk`` events (``host.api.sse.chat_events``); otherwise one ``chat.completion``.
"""

from __future__ import annotations

import time
from typing import Annotated, Any

from fastapi import Depends, Response
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from host.api.routing import SlashRouter, services
from host.api.sse import chat_sse_response
from host.domain.letta import AssistantMessage
from host.errors import InvalidRequestError
from host.ids import new_id
from host.schemas.messages import LettaRequest, LettaStreamingRequest, MessageCreate
from host.services import Services

router = SlashRouter(tags=["chat"])
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
    stream: bool | None = False
    user: str | None = None


class AgentChatCompletionRequest(ChatCompletionRequest):
    model: str = Field(description="The id of the agent that answers ('agent-...')")


def _user_text(body: ChatCompletionRequest) -> str:
    for m in reversed(body.messages):
        if m.role == "user":
            if isinstance(m.content, list):
                return " ".join(str(p.get("text", "")) for p in m.content if isinstance(p, dict))
            if m.content:
                return m.content
    raise InvalidRequestError("messages: no user message with content to answer")


async def answer(svc: Services, agent_id: str, body: ChatCompletionRequest) -> Response:
    """The agent's answer to the request's newest user message, as OpenAI's chat completion (or its chunks)."""
    message = MessageCreate(role="user", content=_user_text(body))
    model = body.model or agent_id
    completion_id = f"chatcmpl-{new_id('x')[2:]}"
    if body.stream:
        events = await svc.runner.stream(agent_id, LettaStreamingRequest(messages=[message]))
        return chat_sse_response(events, completion_id, model)
    result = await svc.runner.send(agent_id, LettaRequest(messages=[message]))
    said = "\n".join(m.content for m in result.messages if isinstance(m, AssistantMessage) and m.content)
    u = result.usage
    return JSONResponse({
        "id": completion_id, "object": "chat.completion", "created": int(time.time()), "model": model,
        "choices": [{"index": 0, "message": {"role": "assistant", "content": said}, "finish_reason": "stop"}],
        "usage": {"prompt_tokens": u.prompt_tokens, "completion_tokens": u.completion_tokens,
                  "total_tokens": u.total_tokens}})


@router.post("/v1/chat/completions", operation_id="create_chat_completion")
async def create_chat_completion(body: AgentChatCompletionRequest, svc: Svc) -> Response:
    if not body.model.startswith("agent-"):
        raise InvalidRequestError(f"model: {body.model!r} is not an agent id; give the id of the agent that "
                                  "answers ('agent-...', GET /v1/agents lists them)")
    return await answer(svc, body.model, body)


__all__ = ["ChatCompletionRequest", "answer", "router"]
