"""Direct model calls beside the agents' turns (Letta 1.x): nothing is written, no tool runs.

    generate       ``POST /v1/agents/{id}/generate``: a prompt (and an optional system prompt) to the agent's
                   model, or to ``override_model``; with a ``response_schema`` the model is made to answer
                   through one tool whose arguments are that schema, and the content is those arguments (JSON)
    generate_tool  ``POST /v1/tools/generate-tool``: the model writes a Python tool through a forced
                   ``generate_tool`` call (source, sample arguments, pip requirements); the source is parsed
                   into a tool schema as tool create parses it, and the tool comes back unsaved

Both call the model through the runner (``host.agent.operations.complete``): the agent's own provider
key when its model is one of its organization's, a provider failure a 502.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from host import llm
from host.agent.runner import Runner
from host.agent.turn import Usage
from host.errors import BadRequestError, InvalidRequestError, UpstreamError
from host.ids import new_id
from host.llm.providers import LLMConfig
from host.schemas.tools import Tool
from host.services.agents import AgentService
from host.tools.schema_gen import SchemaError, parse_tool_source

STRUCTURED_TOOL = "structured_output"
GENERATE_TOOL = llm.ToolSpec(
    name="generate_tool",
    description="Write the raw Python source code of a custom tool that an agent can call.",
    parameters={
        "type": "object",
        "properties": {
            "raw_source_code": {"type": "string", "description": "The raw Python source code of the custom tool."},
            "sample_args_json": {"type": "string", "description": (
                "A JSON object of sample arguments for a test run of the function: parameter name -> value.")},
            "pip_requirements_json": {"type": "string", "description": (
                "A JSON object of pip packages the source needs: package name -> version (\"\" for any).")},
        },
        "required": ["raw_source_code", "sample_args_json", "pip_requirements_json"],
    },
)
GENERATE_TOOL_SYSTEM = (
    "You write Python tools for AI agents. A tool is one top-level Python function with type-annotated "
    "parameters and a Google-style docstring that describes the tool and each parameter (an 'Args:' section) "
    "and what it returns. Import what it needs inside the function. Answer by calling generate_tool.")


@dataclass(frozen=True)
class Generated:
    content: str
    model: str
    usage: Usage

    def to_json(self) -> dict[str, Any]:
        return {"content": self.content, "model": self.model, "usage": self.usage.as_letta()}


@dataclass(frozen=True)
class GeneratedTool:
    tool: Tool  # not saved: create it with POST /v1/tools
    sample_args: dict[str, Any]
    response: str  # what the model said beside its call


def _usage(response: llm.LlmResponse) -> Usage:
    u = response.usage
    return Usage(completion_tokens=u.completion_tokens, prompt_tokens=u.prompt_tokens, total_tokens=u.total_tokens,
                 step_count=1)


def _forced_arguments(response: llm.LlmResponse, tool: str, config: LLMConfig) -> dict[str, Any]:
    call = next((c for c in response.tool_calls if c.name == tool), None)
    if call is None:
        raise UpstreamError(f"The model ({config.handle or config.model}) did not call {tool}")
    return _json_object(call.arguments_json or "{}", f"arguments for {tool}", config)


class GenerationService:
    def __init__(self, agents: AgentService, runner: Runner) -> None:
        self.agents = agents
        self.runner = runner

    async def _agent_model(self, agent_id: str, override_model: str | None) -> LLMConfig:
        agent = await self.agents.get(agent_id)  # 404 first
        if override_model:
            return await self.agents.resolve_model(override_model)
        return LLMConfig.model_validate(agent.llm_config)

    async def generate(self, agent_id: str, prompt: str, *, system_prompt: str | None = None,
                       override_model: str | None = None, response_schema: dict[str, Any] | None = None
                       ) -> Generated:
        config = await self._agent_model(agent_id, override_model)
        messages = ([llm.ChatMessage(role="system", content=system_prompt)] if system_prompt else []) + [
            llm.ChatMessage(role="user", content=prompt)]
        if response_schema is None:
            response = await self.runner.complete(config, messages)
            return Generated(content=response.content or "", model=config.model, usage=_usage(response))
        if not isinstance(response_schema.get("properties"), dict):
            raise InvalidRequestError("response_schema: a JSON schema object with 'properties' is required")
        spec = llm.ToolSpec(name=STRUCTURED_TOOL, description="Answer with the requested structure.",
                            parameters={"type": "object", **response_schema})
        response = await self.runner.complete(config, messages, [spec], {"name": STRUCTURED_TOOL})
        args = _forced_arguments(response, STRUCTURED_TOOL, config)
        return Generated(content=json.dumps(args, ensure_ascii=False), model=config.model, usage=_usage(response))

    async def _tool_model(self, handle: str | None) -> LLMConfig:
        if handle:
            return await self.agents.resolve_model(handle)
        served = await self.agents.registry.list_llm_models()
        if not served:
            raise InvalidRequestError("handle: no model is configured on this server; give a model handle")
        return served[0]

    async def generate_tool(self, tool_name: str, prompt: str, *, handle: str | None = None,
                            starter_code: str | None = None, validation_errors: list[str] | None = None
                            ) -> GeneratedTool:
        config = await self._tool_model(handle)
        ask = (f"Generate a python function named {tool_name} using the instructions below "
               + (f"based on this starter code:\n\n```\n{starter_code}\n```\n\n" if starter_code else "\n")
               + (f"Note the following validation errors:\n{' '.join(validation_errors)}\n\n"
                  if validation_errors else "\n")
               + f"Instructions: {prompt}")
        response = await self.runner.complete(
            config, [llm.ChatMessage(role="system", content=GENERATE_TOOL_SYSTEM),
                     llm.ChatMessage(role="user", content=ask)], [GENERATE_TOOL], {"name": GENERATE_TOOL.name})
        out = _forced_arguments(response, GENERATE_TOOL.name, config)
        source = out.get("raw_source_code")
        if not isinstance(source, str) or not source.strip():
            raise UpstreamError(f"The model ({config.handle or config.model}) wrote no raw_source_code")
        try:
            parsed = parse_tool_source(source, name=tool_name)
        except SchemaError as exc:
            raise BadRequestError(f"Failed to generate JSON schema for tool {tool_name!r}: {exc}") from None
        sample_args = _json_object(out.get("sample_args_json"), "sample_args_json", config)
        pips = _json_object(out.get("pip_requirements_json"), "pip_requirements_json", config)
        tool = Tool(id=new_id("tool"), name=tool_name, description=parsed.description, source_type="python",
                    source_code=source, json_schema=parsed.json_schema,
                    pip_requirements=[{"name": k, "version": str(v) if v else None} for k, v in pips.items()])
        return GeneratedTool(tool=tool, sample_args=sample_args, response=response.content or "")


def _json_object(raw: Any, field: str, config: LLMConfig) -> dict[str, Any]:
    if raw in (None, ""):
        return {}
    try:
        value = json.loads(raw) if isinstance(raw, str) else raw
    except json.JSONDecodeError:
        value = None
    if not isinstance(value, dict):
        raise UpstreamError(f"The model ({config.handle or config.model}) wrote {field} that is not a JSON object: "
                            f"{str(raw)[:200]!r}")
    return value


__all__ = ["Generated", "GeneratedTool", "GenerationService"]
