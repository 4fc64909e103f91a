"""``POST /v1/voice-beta/{agent_id}/chat/completions``: an OpenAI chat-completions endpoint answered by an
agent (the voice agent of a ``voice_sleeptime`` group, whose sleep-time agent keeps its memory).

The same implementation as ``POST /v1/chat/completions`` (``host.api.chat_completions.answer``), with the
agent named in the path instead of ``model``.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Response

from host.api.chat_completions import ChatCompletionRequest, answer
from host.api.routing import SlashRouter, services
from host.services import Services

router = SlashRouter(tags=["voice"])
Svc = Annotated[Services, Depends(services)]


@router.post("/v1/voice-beta/{agent_id}/chat/completions", operation_id="create_voice_chat_completions")
async def voice_chat_completions(agent_id: str, body: ChatCompletionRequest, svc: Svc) -> Response:
    return await answer(svc, agent_id, body)
