"""Operations on a conversation beside its turns (1.x), over the agent's own (``host.agent.operations``):

    POST /v1/conversations/{id}/compact                        CompactionResponse {summary, num_messages_before,
                                                               num_messages_after}
    POST /v1/conversations/{id}/messages/preview-raw-payload   the provider request the next turn would send

``{id}`` is a conversation, or (as Letta) ``default`` with ``agent_id`` in the body, or an agent id. A
conversation shares its agent's context window (``host.services.conversations``), so compacting one
compacts the agent's in-context history, as ``POST /v1/agents/{id}/summarize`` does.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import Depends
from pydantic import BaseModel, ConfigDict, Field

from host.api.routing import SlashRouter, services
from host.api.v1gen.conversations import ConversationMessageRequest
from host.errors import BadRequestError, InvalidRequestError
from host.schemas.messages import LettaStreamingRequest
from host.services import Services

router = SlashRouter(tags=["conversations"])
Svc = Annotated[Services, Depends(services)]

SLIDING_WINDOW_SHARE = 0.3  # share of the in-context messages a sliding-window compaction keeps by default


class CompactionSettings(BaseModel):
    """Letta's settings; ``mode`` and ``sliding_window_percentage`` are acted on, the summarizer model and
    prompt are the agent's."""

    model_config = ConfigDict(extra="ignore")
    mode: Literal["all", "sliding_window", "self_compact_all", "self_compact_sliding_window"] = "sliding_window"
    sliding_window_percentage: float | None = Field(default=None, ge=0, le=1)


class CompactionRequest(BaseModel):
    model_config = ConfigDict(extra="ignore")
    agent_id: str | None = None
    compaction_settings: CompactionSettings | None = None


async def agent_of(svc: Services, conversation_id: str, agent_id: str | None) -> str:
    """The agent whose context a conversation id names (404 for an unknown conversation or agent)."""
    if conversation_id == "default":
        if not agent_id:
            raise InvalidRequestError("agent_id is required with conversation_id 'default' (agent-direct mode)")
        await svc.agents.exists(agent_id)
        return agent_id
    if conversation_id.startswith("agent-"):
        await svc.agents.exists(conversation_id)
        return conversation_id
    return (await svc.conversations.since(conversation_id))[0]


def _keep(settings: CompactionSettings, in_context: int) -> int:
    if settings.mode in ("all", "self_compact_all"):
        return 0
    share = SLIDING_WINDOW_SHARE if settings.sliding_window_percentage is None else settings.sliding_window_percentage
    return int(in_context * share)


@router.post("/v1/conversations/{conversation_id}/compact", operation_id="compact_conversation")
async def compact_conversation(conversation_id: str, svc: Svc, body: CompactionRequest | None = None
                               ) -> dict[str, Any]:
    body = body or CompactionRequest()
    agent_id = await agent_of(svc, conversation_id, body.agent_id)
    in_context = len((await svc.agents.get(agent_id)).message_ids or [])
    settings = body.compaction_settings or CompactionSettings()
    done = await svc.runner.summarize(agent_id, _keep(settings, max(0, in_context - 1)), min_evicted=2)
    if done.summary is None:
        raise BadRequestError("Summarization failed to reduce the number of messages. You may not have enough "
                              "messages to compact or need to use a different CompactionSettings (e.g. using "
                              "`all` mode).")
    return {"summary": done.summary, "num_messages_before": done.before, "num_messages_after": done.after}


@router.post("/v1/conversations/{conversation_id}/messages/preview-raw-payload",
             operation_id="preview_conversation_model_request")
async def preview_conversation_model_request(conversation_id: str, body: ConversationMessageRequest, svc: Svc
                                             ) -> dict[str, Any]:
    agent_id = await agent_of(svc, conversation_id, body.agent_id)
    turn = LettaStreamingRequest.model_validate(body.model_dump(exclude={"agent_id", "streaming"}, exclude_unset=True))
    return await svc.runner.preview(agent_id, turn)


__all__ = ["agent_of", "router"]
