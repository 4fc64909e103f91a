"""1.x routes over existing services: readiness, one message, searches, runs/steps metrics and traces,
and on agents ``tools/{name}/run`` and ``recompile``.

    GET  /v1/ready                                   {"status": "ok", "version"}
    GET  /v1/messages/{message_id}                   [LettaMessage] (the parts of one stored message)
    GET  /v1/messages                                [LettaMessage] every agent's (or a conversation's)
    POST /v1/messages/search                         [message] text search across agents
    POST /v1/agents/messages/search                  [MessageSearchResult] the same search, stored messages
    POST /v1/tools/search                            [{tool, combined_score, ...}]
    GET  /v1/runs/{run_id}/metrics|trace             RunMetrics | [span]
    GET  /v1/steps/{step_id}/messages|metrics|trace  [LettaMessage] | StepMetrics | null
    POST /v1/agents/{agent_id}/tools/{name}/run      ToolExecutionResult
    POST /v1/agents/{agent_id}/recompile             the system prompt (string)
         (also at /v1/agents/{agent_id}/system-prompt/recompile)
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import Body, Depends, Query
from pydantic import BaseModel, ConfigDict, Field

from host.api.routing import SlashRouter, services
from host.api.v1gen.conversations import list_conversation_messages
from host.api.v1gen.generation import Order
from host.services import Services
from host.services.insights import InsightService
from host.services.tool_runs import recompile, run_agent_tool
from host.version import __version__

router = SlashRouter(tags=["v1"])
Svc = Annotated[Services, Depends(services)]


async def _insights(svc: Svc) -> InsightService:
    return InsightService(svc.db)


Insights = Annotated[InsightService, Depends(_insights)]


class MessageSearch(BaseModel):
    model_config = ConfigDict(extra="ignore")
    query: str = ""
    search_mode: Literal["vector", "fts", "hybrid"] = "hybrid"
    agent_id: str | None = None
    conversation_id: str | None = None
    limit: int = Field(default=50, ge=1, le=1000)
    start_date: datetime | None = None
    end_date: datetime | None = None


class AgentMessageSearch(BaseModel):
    model_config = ConfigDict(extra="ignore")
    query: str | None = None
    search_mode: Literal["vector", "fts", "hybrid"] = "hybrid"
    roles: list[Literal["assistant", "user", "tool", "function", "system", "approval"]] | None = None
    agent_id: str | None = None
    limit: int = Field(default=50, ge=1, le=100)
    start_date: datetime | None = None
    end_date: datetime | None = None


class ToolSearch(BaseModel):
    model_config = ConfigDict(extra="ignore")
    query: str | None = None
    search_mode: Literal["vector", "fts", "hybrid"] = "hybrid"
    tool_types: list[str] | None = None
    tags: list[str] | None = None
    limit: int = Field(default=50, ge=1, le=1000)


class ToolExecuteRequest(BaseModel):
    model_config = ConfigDict(extra="ignore")
    args: dict[str, Any] = Field(default_factory=dict)


@router.get("/v1/ready/", operation_id="check_readiness")
async def ready(svc: Svc) -> dict[str, Any]:
    async with svc.db.session() as s:  # ready = the database answers
        from sqlalchemy import text

        await s.execute(text("SELECT 1"))
    return {"version": __version__, "status": "ok"}


@router.get("/v1/messages/{message_id}", operation_id="retrieve_message")
async def retrieve_message(message_id: str, insights: Insights) -> list[dict[str, Any]]:
    return await insights.message(message_id)


@router.get("/v1/messages/", operation_id="list_all_messages")
async def list_all_messages(svc: Svc, insights: Insights, after: str | None = None, before: str | None = None,
                            limit: Annotated[int | None, Query(ge=1, le=10000)] = 100, order: Order = "desc",
                            conversation_id: str | None = None,
                            include_return_message_types: Annotated[list[str] | None, Query()] = None
                            ) -> list[dict[str, Any]]:
    if conversation_id is not None:
        return await list_conversation_messages(conversation_id, svc, after=after, before=before, limit=limit,
                                                order=order,
                                                include_return_message_types=include_return_message_types)
    return await insights.all_messages(order=order, after=after, before=before, limit=limit,
                                       message_types=include_return_message_types)


@router.post("/v1/agents/messages/search", operation_id="search_messages")
async def search_agent_messages(body: AgentMessageSearch, insights: Insights) -> list[dict[str, Any]]:
    return await insights.search_message_objects(body.query or "", agent_id=body.agent_id, roles=body.roles,
                                                 limit=body.limit, start=body.start_date, end=body.end_date)


@router.post("/v1/messages/search", operation_id="search_all_messages")
async def search_messages(body: MessageSearch, insights: Insights) -> list[dict[str, Any]]:
    return await insights.search_messages(body.query, agent_id=body.agent_id, limit=body.limit,
                                          start=body.start_date, end=body.end_date)


@router.post("/v1/tools/search", operation_id="search_tools")
async def search_tools(body: ToolSearch, svc: Svc) -> list[dict[str, Any]]:
    """Ranked by where the words occur: the name first, then the description."""
    words = [w.lower() for w in (body.query or "").split() if w]
    results: list[dict[str, Any]] = []
    for tool in await svc.tools.list(limit=None):
        if body.tool_types and tool.tool_type not in body.tool_types:
            continue
        if body.tags and not set(body.tags) & set(tool.tags):
            continue
        name, desc = (tool.name or "").lower(), (tool.description or "").lower()
        score = sum(2.0 if w in name else 1.0 if w in desc else 0.0 for w in words) if words else 1.0
        if score > 0:
            results.append({"tool": tool.model_dump(mode="json", by_alias=True), "embedded_text": None,
                            "fts_rank": None, "vector_rank": None, "combined_score": score})
    results.sort(key=lambda r: (-r["combined_score"], r["tool"]["name"] or ""))
    for rank, result in enumerate(results, 1):
        result["fts_rank"] = rank
    return results[:body.limit]


@router.get("/v1/runs/{run_id}/metrics", operation_id="retrieve_metrics_for_run")
async def run_metrics(run_id: str, insights: Insights) -> dict[str, Any]:
    return await insights.run_metrics(run_id)


@router.get("/v1/runs/{run_id}/trace", operation_id="retrieve_trace_for_run")
async def run_trace(run_id: str, insights: Insights, limit: int = 1000) -> list[dict[str, Any]]:
    return await insights.run_trace(run_id, limit)


@router.get("/v1/steps/{step_id}/messages", operation_id="list_messages_for_step")
async def step_messages(step_id: str, insights: Insights, order: Order = "asc", after: str | None = None,
                        before: str | None = None, limit: int | None = 100) -> list[dict[str, Any]]:
    return await insights.step_messages(step_id, order=order, after=after, before=before, limit=limit)


@router.get("/v1/steps/{step_id}/metrics", operation_id="retrieve_metrics_for_step")
async def step_metrics(step_id: str, insights: Insights) -> dict[str, Any]:
    return await insights.step_metrics(step_id)


@router.get("/v1/steps/{step_id}/trace", operation_id="retrieve_trace_for_step")
async def step_trace(step_id: str, insights: Insights) -> None:
    await insights.step_exists(step_id)
    return None  # provider request/response traces are not recorded


@router.post("/v1/agents/{agent_id}/tools/{tool_name}/run", operation_id="run_tool_for_agent")
async def run_tool_for_agent(agent_id: str, tool_name: str, svc: Svc,
                             body: Annotated[ToolExecuteRequest | None, Body()] = None) -> dict[str, Any]:
    return await run_agent_tool(svc, agent_id, tool_name, (body or ToolExecuteRequest()).args)


@router.post("/v1/agents/{agent_id}/system-prompt/recompile", operation_id="recompile_agent_system_prompt")
@router.post("/v1/agents/{agent_id}/recompile", operation_id="recompile_agent")
async def recompile_agent(agent_id: str, svc: Svc, dry_run: bool = False, update_timestamp: bool = True) -> str:
    return await recompile(svc.db, agent_id, dry_run=dry_run)
