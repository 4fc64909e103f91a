"""Direct model calls (1.x), over ``host.services.generation``:

    POST /v1/agents/{agent_id}/generate   GenerateResponse {content, model, usage}: the agent's model (or
                                          ``override_model``) answers a prompt; no memory, no tools, nothing saved
    POST /v1/tools/generate-tool          GenerateToolOutput {tool, sample_args, response}: a Python tool written
                                          by a model (``handle``, else the first served model), parsed, not saved
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Depends
from pydantic import BaseModel, Field

from host.api.routing import SlashRouter, services
from host.schemas.common import RequestModel
from host.schemas.tools import Tool
from host.services import Services
from host.services.generation import GenerationService

router = SlashRouter(tags=["v1"])
Svc = Annotated[Services, Depends(services)]


async def _generation(svc: Svc) -> GenerationService:
    return GenerationService(svc.agents, svc.runner)


Generation = Annotated[GenerationService, Depends(_generation)]


class GenerateRequest(RequestModel):
    prompt: str = Field(min_length=1)
    system_prompt: str | None = None
    override_model: str | None = None
    response_schema: dict[str, Any] | None = None


class GenerateToolInput(RequestModel):
    tool_name: str = Field(min_length=1, max_length=256, pattern=r"^[A-Za-z_][A-Za-z0-9_]*$")
    prompt: str = Field(min_length=1)
    handle: str | None = None
    starter_code: str | None = None
    validation_errors: list[str]


class GenerateToolOutput(BaseModel):
    tool: Tool
    sample_args: dict[str, Any]
    response: str


@router.post("/v1/agents/{agent_id}/generate", operation_id="generate_completion")
async def generate_completion(agent_id: str, body: GenerateRequest, gen: Generation) -> dict[str, Any]:
    done = await gen.generate(agent_id, body.prompt, system_prompt=body.system_prompt,
                              override_model=body.override_model, response_schema=body.response_schema)
    return done.to_json()


@router.post("/v1/tools/generate-tool", response_model=GenerateToolOutput, operation_id="generate_tool")
async def generate_tool(body: GenerateToolInput, gen: Generation) -> GenerateToolOutput:
    made = await gen.generate_tool(body.tool_name, body.prompt, handle=body.handle, starter_code=body.starter_code,
                                   validation_errors=body.validation_errors)
    return GenerateToolOutput(tool=made.tool, sample_args=made.sample_args, response=made.response)


__all__ = ["router"]
