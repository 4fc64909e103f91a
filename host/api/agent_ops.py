"""Agent operations beside turns: ``summarize`` and ``messages/preview-raw-payload``
(host.agent.operations). ``files/close-all`` is served with the folders (host/api/v1gen/folders.py)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Depends, Query

from host.api.routing import SlashRouter, services
from host.schemas.agents import AgentState
from host.schemas.messages import LettaStreamingRequest
from host.services import Services

router = SlashRouter(tags=["agents"])
Svc = Annotated[Services, Depends(services)]


@router.post("/v1/agents/{agent_id}/summarize", response_model=AgentState,
             operation_id="summarize_agent_conversation")
async def summarize(agent_id: str, svc: Svc, max_message_length: Annotated[int, Query(
        ge=0, le=100_000, description="Maximum number of messages to retain after summarization.")]) -> Any:
    await svc.agents.get(agent_id)  # 404 before any work
    await svc.runner.summarize(agent_id, max_message_length)
    return await svc.agents.get(agent_id)


@router.post("/v1/agents/{agent_id}/messages/preview-raw-payload", operation_id="preview_raw_payload")
async def preview_raw_payload(agent_id: str, body: LettaStreamingRequest, svc: Svc) -> dict[str, Any]:
    return await svc.runner.preview(agent_id, body)
