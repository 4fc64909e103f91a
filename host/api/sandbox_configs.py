"""``/v1/sandbox-config`` (configs and their env vars) and ``POST /v1/tools/run`` (source code in the sandbox).

``/v1/tools/run`` never answers 500 for a failing tool: syntax errors, exceptions, timeouts and
missing packages come back as a ``tool_return_message`` with ``status: "error"``.
"""

from __future__ import annotations

import logging
import traceback
from typing import Annotated, Any

from fastapi import Depends, Response

from host.api.routing import SlashRouter, services
from host.schemas.tools import ToolRunFromSource
from host.services import Services
from host.services.sandbox_configs import (
    EnvVarCreate,
    EnvVarUpdate,
    LocalConfigBody,
    SandboxConfig,
    SandboxConfigCreate,
    SandboxConfigService,
    SandboxConfigUpdate,
    SandboxEnvironmentVariable,
    SandboxType,
)
from host.tools.sources.custom import function_name_for, requirement_specs, tool_return_message
from sandbox import SandboxError, SandboxResult

logger = logging.getLogger(__name__)

router = SlashRouter(tags=["sandbox-config"])
Svc = Annotated[Services, Depends(services)]
_PREFIX = "/v1/sandbox-config"


def _configs(svc: Services) -> SandboxConfigService:
    return SandboxConfigService(svc.db, svc.settings, svc.sandboxes)


@router.post("/v1/tools/run", operation_id="run_tool_from_source")
async def run_tool_from_source(body: ToolRunFromSource, svc: Svc) -> dict[str, Any]:
    name = function_name_for(body.source_code, body.name, body.json_schema)
    if body.source_type not in (None, "", "python"):
        result = SandboxResult(status="error", error=f"source_type {body.source_type!r} is not supported; use python")
        return tool_return_message(result, name)
    try:
        result = await svc.sandboxes.run_source(
            source_code=body.source_code, function_name=name, args=body.args, env=body.env_vars,
            pip_requirements=requirement_specs([p.model_dump() for p in body.pip_requirements or []]))
    except SandboxError as exc:  # the sandbox itself failed: still an answer, not a 500
        logger.exception("running tool %s from source failed in the sandbox", name or "<unknown>")
        result = SandboxResult(status="error", error=f"{type(exc).__name__}: {exc}", stderr=[traceback.format_exc()])
    return tool_return_message(result, name)


@router.get(f"{_PREFIX}/", response_model=list[SandboxConfig], operation_id="list_sandbox_configs")
async def list_sandbox_configs(svc: Svc, limit: int = 1000, after: str | None = None,
                               sandbox_type: SandboxType | None = None) -> list[SandboxConfig]:
    return await _configs(svc).list(sandbox_type=sandbox_type, after=after, limit=limit)


@router.get(f"{_PREFIX}/containment", operation_id="get_sandbox_containment")
async def get_sandbox_containment(svc: Svc) -> dict[str, Any]:
    """agenthost extension: the containment custom tools actually run under (namespaces, user, network...)."""
    return _configs(svc).containment()


@router.post(f"{_PREFIX}/", response_model=SandboxConfig, operation_id="create_sandbox_config")
async def create_sandbox_config(body: SandboxConfigCreate, svc: Svc) -> SandboxConfig:
    return await _configs(svc).upsert(body.config)


@router.post(f"{_PREFIX}/e2b/default", response_model=SandboxConfig, operation_id="create_default_e2b_sandbox_config")
async def create_default_e2b(svc: Svc) -> SandboxConfig:
    return await _configs(svc).get_or_create_default("e2b")


@router.post(f"{_PREFIX}/local/default", response_model=SandboxConfig,
             operation_id="create_default_local_sandbox_config")
async def create_default_local(svc: Svc) -> SandboxConfig:
    return await _configs(svc).get_or_create_default("local")


@router.post(f"{_PREFIX}/local", response_model=SandboxConfig, operation_id="create_custom_local_sandbox_config")
async def create_custom_local(body: LocalConfigBody, svc: Svc) -> SandboxConfig:
    return await _configs(svc).upsert(body.model_dump(mode="json", exclude_none=True), "local")


@router.post(f"{_PREFIX}/local/recreate-venv", response_model=SandboxConfig,
             operation_id="force_recreate_local_sandbox_venv")
async def recreate_local_venv(svc: Svc) -> SandboxConfig:
    return await _configs(svc).recreate_venv()


@router.patch(f"{_PREFIX}/environment-variable/{{env_var_id}}", response_model=SandboxEnvironmentVariable,
              operation_id="update_sandbox_env_var")
async def modify_env_var(env_var_id: str, body: EnvVarUpdate, svc: Svc) -> SandboxEnvironmentVariable:
    return await _configs(svc).modify_env(env_var_id, body)


@router.delete(f"{_PREFIX}/environment-variable/{{env_var_id}}", status_code=204,
               operation_id="delete_sandbox_env_var")
async def delete_env_var(env_var_id: str, svc: Svc) -> Response:
    await _configs(svc).delete_env(env_var_id)
    return Response(status_code=204)


@router.patch(f"{_PREFIX}/{{sandbox_config_id}}", response_model=SandboxConfig, operation_id="update_sandbox_config")
async def modify_sandbox_config(sandbox_config_id: str, body: SandboxConfigUpdate, svc: Svc) -> SandboxConfig:
    return await _configs(svc).modify(sandbox_config_id, body)


@router.delete(f"{_PREFIX}/{{sandbox_config_id}}", status_code=204, operation_id="delete_sandbox_config")
async def delete_sandbox_config(sandbox_config_id: str, svc: Svc) -> Response:
    await _configs(svc).delete(sandbox_config_id)
    return Response(status_code=204)


@router.get(f"{_PREFIX}/{{sandbox_config_id}}/environment-variable", response_model=list[SandboxEnvironmentVariable],
            operation_id="list_sandbox_env_vars")
async def list_env_vars(sandbox_config_id: str, svc: Svc, limit: int = 1000,
                        after: str | None = None) -> list[SandboxEnvironmentVariable]:
    return await _configs(svc).list_env(sandbox_config_id, after=after, limit=limit)


@router.post(f"{_PREFIX}/{{sandbox_config_id}}/environment-variable", response_model=SandboxEnvironmentVariable,
             operation_id="create_sandbox_env_var")
async def create_env_var(sandbox_config_id: str, body: EnvVarCreate, svc: Svc) -> SandboxEnvironmentVariable:
    return await _configs(svc).set_env(sandbox_config_id, body)
