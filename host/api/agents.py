"""``/v1/agents``: create, list, count, retrieve, modify, delete; tools; export and import."""

from __future__ import annotations

import json
from typing import Annotated, Any

from fastapi import Body, Depends, File, Query, Response, UploadFile
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from host.api.routing import SlashRouter, services
from host.api.v1gen.agent_shape import full_v1, v1_agent
from host.api.v1gen.generation import V1, Order, legacy_or_v1_order, page_in_memory
from host.domain.prompt import V1_AGENT_TYPE
from host.errors import BadRequestError, InvalidRequestError, NotFoundError
from host.schemas.agents import AgentState, CreateAgentRequest, ModifyApprovalRequest, UpdateAgent
from host.schemas.tools import Tool
from host.services import Services

router = SlashRouter(prefix="/v1/agents", tags=["agents"])
Svc = Annotated[Services, Depends(services)]


def _json(state: AgentState, headers: dict[str, str] | None = None) -> Response:
    """The agent as JSON, serialized once in pydantic's core: the server built ``state`` itself, so FastAPI's
    response_model pass (dump, validate again, dump again) is skipped."""
    return Response(state.model_dump_json(by_alias=True), media_type="application/json", headers=headers)


def _with_warnings(state: AgentState, warnings: list[str], v1: bool = False) -> Response:
    headers = {"X-Tool-Rule-Warnings": json.dumps(warnings)} if warnings else None
    return JSONResponse(full_v1(state), headers=headers) if v1 else _json(state, headers)


@router.post("/", response_model=AgentState, operation_id="create_agent")
async def create_agent(body: CreateAgentRequest, svc: Svc, v1: V1) -> Response:
    if v1 and "agent_type" not in body.model_fields_set:  # 1.x clients' default, as in Letta 0.16
        body = body.model_copy(update={"agent_type": V1_AGENT_TYPE})
    state, warnings = await svc.agents.create(body)
    if body.enable_sleeptime:
        try:
            await svc.groups.enable_sleeptime(state)
        except BaseException:
            await svc.agents.delete(state.id)  # nothing half-created
            raise
        state = await _with_group(svc, await svc.agents.get(state.id))
    return _with_warnings(state, warnings, v1)


async def _with_group(svc: Services, state: AgentState) -> AgentState:
    """``multi_agent_group``: the group the agent manages or belongs to (a sleeptime group, most often)."""
    group = await svc.groups.multi_agent_group(state.id)
    return state.model_copy(update={"multi_agent_group": group}) if group else state


@router.get("/", response_model=list[AgentState], operation_id="list_agents")
async def list_agents(
    svc: Svc,
    name: str | None = None,
    tags: Annotated[list[str] | None, Query()] = None,
    match_all_tags: bool = False,
    before: str | None = None,
    after: str | None = None,
    limit: int | None = 50,
    query_text: str | None = None,
    project_id: str | None = None,
    template_id: str | None = None,
    base_template_id: str | None = None,
    identity_id: str | None = None,
    identifier_keys: Annotated[list[str] | None, Query()] = None,
    include_relationships: Annotated[list[str] | None, Query()] = None,
    ascending: bool = False,
    sort_by: str | None = "created_at",
    order: Order | None = None,
    include: Annotated[list[str] | None, Query()] = None,
    v1: V1 = False,
) -> Any:
    asc, after, before = legacy_or_v1_order(v1, order, ascending, after, before)
    agents = await svc.agents.list(name=name, tags=tags, match_all_tags=match_all_tags, before=before, after=after,
                                   limit=limit, query_text=query_text, identity_id=identity_id,
                                   identifier_keys=identifier_keys, ascending=asc, project_id=project_id,
                                   template_id=template_id, base_template_id=base_template_id,
                                   include_relationships=None if v1 else include_relationships)
    if v1:  # 1.x: relationships only when asked for
        return JSONResponse([v1_agent(a, include) for a in agents])
    body = b"[" + b",".join(svc.agents.views.json(a) for a in agents) + b"]"  # each view serialized once
    return Response(body, media_type="application/json")


@router.get("/count", response_model=int, operation_id="count_agents")
async def count_agents(svc: Svc) -> int:
    return await svc.agents.count()


@router.post("/import", response_model=AgentState, operation_id="import_agent_serialized")
async def import_agent(
    svc: Svc,
    file: Annotated[UploadFile, File()],
    append_copy_suffix: bool = True,
    override_existing_tools: bool = True,
    project_id: str | None = None,
    strip_messages: bool = False,
) -> AgentState:
    raw = await file.read()
    return await svc.agentfiles.import_(raw, append_copy_suffix=append_copy_suffix,
                                        override_existing_tools=override_existing_tools,
                                        strip_messages=strip_messages, project_id=project_id)


@router.get("/{agent_id}", response_model=AgentState, operation_id="retrieve_agent")
async def retrieve_agent(agent_id: str, svc: Svc, v1: V1,
                         include: Annotated[list[str] | None, Query()] = None) -> Any:
    state = await svc.agents.get(agent_id)
    if svc.agents.views.grouped(state) is not False:  # known to be in no group: nothing to add
        state = await _with_group(svc, state)
    if v1:
        return JSONResponse(v1_agent(state, include))
    return Response(svc.agents.views.json(state), media_type="application/json")  # serialized once per version


@router.patch("/{agent_id}", response_model=AgentState, operation_id="modify_agent")
async def modify_agent(agent_id: str, body: UpdateAgent, svc: Svc, v1: V1) -> Response:
    state, warnings = await svc.agents.modify(agent_id, body)
    for block_id in body.block_ids or []:  # blocks given to a main agent reach its sleep-time agents
        await svc.groups.block_attached(agent_id, block_id)
    if body.enable_sleeptime is not None:  # true: the sleep-time agent and group; false: they go
        if body.enable_sleeptime:
            await svc.groups.enable_sleeptime(state)
        else:
            await svc.groups.disable_sleeptime(agent_id)
        state = await svc.agents.get(agent_id)
    return _with_warnings(await _with_group(svc, state), warnings, v1)


@router.delete("/{agent_id}", operation_id="delete_agent")
async def delete_agent(agent_id: str, svc: Svc) -> dict[str, Any]:
    await svc.agents.exists(agent_id)
    await svc.groups.agent_deleting(agent_id)  # its sleep-time agents and group go with it
    await svc.agents.delete(agent_id)
    return {"message": f"Agent id={agent_id} successfully deleted"}


class ExportAgentRequest(BaseModel):
    model_config = ConfigDict(extra="ignore")
    skills: list[dict[str, Any]] = Field(default_factory=list)
    conversation_id: str | None = None
    scrub_messages: bool = False


@router.get("/{agent_id}/export", operation_id="export_agent_serialized")
async def export_agent(agent_id: str, svc: Svc, conversation_id: str | None = None,
                       scrub_messages: bool = False) -> dict[str, Any]:
    agent = await svc.agents.get(agent_id)
    since = None
    if conversation_id is not None:
        owner, since = await svc.conversations.since(conversation_id)
        if owner != agent_id:
            raise NotFoundError(f"Conversation {conversation_id} not found for agent {agent_id}")
    return await svc.agentfiles.export(agent, since=since, scrub=scrub_messages)


@router.post("/{agent_id}/export", operation_id="export_agent_with_skills")
async def export_agent_post(agent_id: str, svc: Svc,
                            body: Annotated[ExportAgentRequest | None, Body()] = None) -> dict[str, Any]:
    """1.x's POST form of the export (options in the body)."""
    body = body or ExportAgentRequest()
    if body.skills:
        raise BadRequestError("skills are not supported in agent exports yet; send the export without 'skills'")
    return await export_agent(agent_id, svc, body.conversation_id, body.scrub_messages)


@router.get("/{agent_id}/tools", response_model=list[Tool], operation_id="list_agent_tools")
async def list_agent_tools(agent_id: str, svc: Svc, v1: V1, order: Order | None = None, after: str | None = None,
                           before: str | None = None, limit: int | None = None) -> list[Tool]:
    tools = await svc.agents.list_tools(agent_id)
    if not v1 and order is None and after is None and before is None and limit is None:
        return tools
    return page_in_memory(tools, order or "desc", after, before, limit)


@router.patch("/{agent_id}/tools/attach/{tool_id}", response_model=AgentState | None, operation_id="attach_tool")
async def attach_tool(agent_id: str, tool_id: str, svc: Svc, v1: V1) -> AgentState | None:
    state = await svc.agents.attach_tool(agent_id, tool_id)
    return None if v1 else state  # 1.x answers null


@router.patch("/{agent_id}/tools/detach/{tool_id}", response_model=AgentState | None, operation_id="detach_tool")
async def detach_tool(agent_id: str, tool_id: str, svc: Svc, v1: V1) -> AgentState | None:
    state = await svc.agents.detach_tool(agent_id, tool_id)
    return None if v1 else state  # 1.x answers null


@router.patch("/{agent_id}/tools/approval/{tool_name}", response_model=AgentState | None,
              operation_id="modify_approval_for_tool")
async def modify_approval_for_tool(agent_id: str, tool_name: str, svc: Svc,
                                   request: Annotated[ModifyApprovalRequest | None, Body()] = None,
                                   requires_approval: Annotated[bool | None, Query(deprecated=True)] = None) -> None:
    """``requires_approval`` from the body (or, deprecated, the query); 1.x answers null."""
    value = request.requires_approval if request is not None else requires_approval
    if value is None:
        raise InvalidRequestError("requires_approval must be provided in the request body or query parameter")
    await svc.agents.set_tool_approval(agent_id, tool_name, value)
