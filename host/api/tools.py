"""``/v1/tools``: custom tools from source and the built-in catalogue."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Depends

from host.api.routing import SlashRouter, services
from host.api.v1gen.generation import V1, Order, legacy_or_v1_order
from host.schemas.tools import Tool, ToolCreate, ToolUpdate
from host.services import Services

router = SlashRouter(prefix="/v1/tools", tags=["tools"])
Svc = Annotated[Services, Depends(services)]


@router.get("/", response_model=list[Tool], operation_id="list_tools")
async def list_tools(svc: Svc, v1: V1, after: str | None = None, limit: int | None = 50, name: str | None = None,
                     before: str | None = None, order: Order | None = None) -> list[Tool]:
    ascending, after, before = legacy_or_v1_order(v1, order, True, after, before)
    return await svc.tools.list(name=name, after=after, before=before, limit=limit, ascending=ascending)


@router.post("/", response_model=Tool, operation_id="create_tool")
async def create_tool(body: ToolCreate, svc: Svc) -> Tool:
    return await svc.tools.create(body)


@router.put("/", response_model=Tool, operation_id="upsert_tool")
async def upsert_tool(body: ToolCreate, svc: Svc) -> Tool:
    return await svc.tools.create(body, upsert=True)


@router.get("/count", response_model=int, operation_id="count_tools")
async def count_tools(svc: Svc) -> int:
    return await svc.tools.count()


@router.post("/add-base-tools", response_model=list[Tool], operation_id="add_base_tools")
async def add_base_tools(svc: Svc) -> list[Tool]:
    from builtin_tools import all_builtins

    await svc.tools.sync_builtins(all_builtins())
    return [t for t in await svc.tools.list(limit=None) if t.tool_type != "custom"]


@router.get("/{tool_id}", response_model=Tool, operation_id="retrieve_tool")
async def retrieve_tool(tool_id: str, svc: Svc) -> Tool:
    return await svc.tools.get(tool_id)


@router.patch("/{tool_id}", response_model=Tool, operation_id="modify_tool")
async def modify_tool(tool_id: str, body: ToolUpdate, svc: Svc) -> Tool:
    return await svc.tools.modify(tool_id, body)


@router.delete("/{tool_id}", operation_id="delete_tool")
async def delete_tool(tool_id: str, svc: Svc) -> dict[str, Any]:
    await svc.tools.delete(tool_id)
    return {"message": f"Tool id={tool_id} successfully deleted"}
