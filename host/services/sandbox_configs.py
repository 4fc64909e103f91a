"""Sandbox configs and their environment variables (``/v1/sandbox-config``), and the plan they give the router.

At most one config per type is used: ``local`` (venv, directory, pip requirements, env vars) and
``e2b`` (template, lifetime, pip requirements, env vars). Creating a config of a type that exists
updates it, as Letta does.

Which backend runs custom tools (see docs/sandbox.md): E2B when an ``e2b`` sandbox config exists AND
an E2B API key is configured (``E2B_API_KEY``); otherwise the local sandbox. An API key alone never
selects E2B. Every change is persisted first, then applied to the running ``SandboxRouter``.

Env var values are write-only, as every secret here: answers carry ``"****"`` (Letta returns them in clear),
logs name keys only, and a ``"****"`` sent back in a PATCH keeps the stored value.
"""

from __future__ import annotations

import logging
from dataclasses import replace
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from host.domain.actor import acting_organization
from host.errors import BadRequestError, ConflictError, InvalidRequestError, NotFoundError
from host.ids import new_id
from host.persistence.db import Database
from host.persistence.models import SandboxConfigRow, SandboxEnvVarRow
from host.persistence.paging import paginate
from host.schemas.agents import MASKED
from host.schemas.common import Audited, Name, RequestModel
from host.schemas.tools import PipRequirement
from host.settings import Settings
from host.tools.sources.custom import SandboxPlan, SandboxRouter, requirement_specs
from sandbox import E2BSandboxConfig, LocalSandboxConfig, SandboxError

logger = logging.getLogger(__name__)

SandboxType = Literal["local", "e2b"]


# ---- wire models ------------------------------------------------------------------------------
class LocalConfigBody(BaseModel):
    """Letta's ``LocalSandboxConfig``; ``timeout_s`` is an agenthost extension (per-call wall clock)."""

    model_config = ConfigDict(extra="forbid")
    sandbox_dir: str | None = None
    use_venv: bool = False
    venv_name: str = "venv"
    pip_requirements: list[PipRequirement] = Field(default_factory=list)
    timeout_s: float | None = Field(default=None, gt=0)
    network: bool | None = None  # agenthost extension: False = tool code gets no network (needs namespaces)


class E2BConfigBody(BaseModel):
    """Letta's ``E2BSandboxConfig``."""

    model_config = ConfigDict(extra="forbid")
    timeout: int = 300
    template: str | None = None
    pip_requirements: list[str] | None = None


_LOCAL_ONLY = {"sandbox_dir", "use_venv", "venv_name", "timeout_s", "network"}
_E2B_ONLY = {"timeout", "template"}


class SandboxConfigCreate(RequestModel):
    config: dict[str, Any]


class SandboxConfigUpdate(RequestModel):
    config: dict[str, Any] | None = None


class SandboxConfig(Audited):
    id: str
    type: SandboxType
    organization_id: str | None = Field(default_factory=acting_organization)
    config: dict[str, Any] = Field(default_factory=dict)
    containment: dict[str, Any] | None = None  # agenthost extension: what is actually enforced (see docs/sandbox.md)


class EnvVarCreate(RequestModel):
    key: Name = Field(min_length=1)
    value: str
    description: str | None = None


class EnvVarUpdate(RequestModel):
    key: Name | None = Field(default=None, min_length=1)
    value: str | None = None
    description: str | None = None


class SandboxEnvironmentVariable(Audited):
    id: str
    key: str
    value: str
    description: str | None = None
    organization_id: str | None = Field(default_factory=acting_organization)
    sandbox_config_id: str


def _config_out(row: SandboxConfigRow) -> SandboxConfig:
    return SandboxConfig(id=row.id, type=row.type, config=dict(row.config or {}),  # type: ignore[arg-type]
                         created_at=row.created_at, updated_at=row.updated_at, organization_id=row.organization_id)


def _env_out(row: SandboxEnvVarRow) -> SandboxEnvironmentVariable:
    return SandboxEnvironmentVariable(id=row.id, key=row.key, value=MASKED, description=row.description,
                                      sandbox_config_id=row.sandbox_config_id, created_at=row.created_at,
                                      updated_at=row.updated_at)


def infer_type(config: dict[str, Any]) -> SandboxType:
    """Which of Letta's two config shapes a body is (Letta sends no type field)."""
    keys = set(config)
    if keys & _E2B_ONLY and not keys & _LOCAL_ONLY:
        return "e2b"
    reqs = config.get("pip_requirements")
    if not keys & _LOCAL_ONLY and isinstance(reqs, list) and reqs and all(isinstance(r, str) for r in reqs):
        return "e2b"
    return "local"


def _validated(kind: SandboxType, config: dict[str, Any]) -> dict[str, Any]:
    model = E2BConfigBody if kind == "e2b" else LocalConfigBody
    try:
        parsed = model.model_validate(config)
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(map(str, e['loc'])) or 'config'}: {e['msg']}" for e in exc.errors())
        raise InvalidRequestError(f"Invalid {kind} sandbox config: {problems}") from None
    return parsed.model_dump(mode="json", exclude_none=True)


# ---- from stored configs to the running sandboxes ---------------------------------------------------
def settings_local_config(settings: Settings, **overrides: Any) -> LocalSandboxConfig:
    """The local sandbox as the settings alone describe it (no stored config; also the CLI's)."""
    cfg = LocalSandboxConfig(
        exec_dir=settings.tool_exec_dir, venv_name=settings.tool_exec_venv_name,
        use_venv=bool(settings.tool_exec_dir and settings.tool_exec_venv_name),
        venv_cache_dir=settings.home / "tool-venvs", warm_pool_size=settings.tool_warm_pool_size,
    )
    return replace(cfg, **overrides)


def default_local_config(settings: Settings) -> dict[str, Any]:
    """What ``POST /v1/sandbox-config/local/default`` stores (Letta's defaults)."""
    sandbox_dir = settings.tool_exec_dir or (settings.home / "tool_execution_dir")
    return _validated("local", {"sandbox_dir": str(sandbox_dir), "use_venv": bool(settings.tool_exec_venv_name),
                                "venv_name": settings.tool_exec_venv_name or "venv"})


def default_e2b_config(settings: Settings) -> dict[str, Any]:
    return _validated("e2b", {"timeout": 300, "template": settings.e2b_sandbox_template_id})


def plan_for(settings: Settings, local: dict[str, Any] | None, local_env: dict[str, str],
             e2b: dict[str, Any] | None, e2b_env: dict[str, str]) -> SandboxPlan:
    local_cfg = settings_local_config(settings)
    requirements: tuple[str, ...] = ()
    timeout_s = None
    if local is not None:
        body = LocalConfigBody.model_validate(local)
        exec_dir = Path(body.sandbox_dir).expanduser() if body.sandbox_dir else settings.tool_exec_dir
        local_cfg = replace(local_cfg, exec_dir=exec_dir, venv_name=body.venv_name,
                            use_venv=bool(body.use_venv and exec_dir is not None))
        if body.use_venv:
            requirements = tuple(requirement_specs([p.model_dump() for p in body.pip_requirements]))
        timeout_s = body.timeout_s
        if timeout_s is not None:
            local_cfg = replace(local_cfg, timeout_s=timeout_s)
        if body.network is not None:
            local_cfg = replace(local_cfg, network=body.network)
    e2b_cfg = None
    if e2b is not None and settings.e2b_api_key:
        body_e2b = E2BConfigBody.model_validate(e2b)
        e2b_cfg = E2BSandboxConfig(
            api_key=settings.e2b_api_key, template=body_e2b.template or settings.e2b_sandbox_template_id,
            timeout_s=body_e2b.timeout, api_url=settings.e2b_api_url, sandbox_url=settings.e2b_sandbox_url,
            pip_requirements=list(body_e2b.pip_requirements or []))
    elif e2b is not None:
        logger.warning("an e2b sandbox config exists but E2B_API_KEY is not set: custom tools run locally")
    return SandboxPlan(local=local_cfg, local_env=local_env, local_requirements=requirements, timeout_s=timeout_s,
                       e2b=e2b_cfg, e2b_env=e2b_env)


async def load_plan(db: Database, settings: Settings) -> SandboxPlan:
    async with db.session() as s:
        rows = (await s.execute(select(SandboxConfigRow).order_by(SandboxConfigRow.created_at))).scalars().all()
        by_type = {r.type: r for r in rows}  # the newest of a type wins (there is normally one)
        envs: dict[str, dict[str, str]] = {"local": {}, "e2b": {}}
        for kind, row in by_type.items():
            stmt = select(SandboxEnvVarRow).where(SandboxEnvVarRow.sandbox_config_id == row.id)
            envs[kind] = {e.key: e.value for e in (await s.execute(stmt)).scalars()}
    local, e2b = by_type.get("local"), by_type.get("e2b")
    return plan_for(settings, local.config if local else None, envs.get("local", {}),
                    e2b.config if e2b else None, envs.get("e2b", {}))


# ---- the service ---------------------------------------------------------------------------------
class SandboxConfigService:
    """Stateless: built per request from the database, the settings and the running router."""

    def __init__(self, db: Database, settings: Settings, router: SandboxRouter | None) -> None:
        self.db = db
        self.settings = settings
        self.router = router

    def containment(self) -> dict[str, Any]:
        """The containment in force for custom tools (``GET /v1/sandbox-config/containment``)."""
        local = self.router.local if self.router is not None else None
        report = getattr(local, "containment", None) or {"namespaces": None, "state": "no local sandbox running"}
        backend = self.router.kind if self.router is not None else "local"
        if backend == "e2b":
            return {"backend": "e2b", "mechanism": "E2B cloud sandbox (remote)", "local": report}
        return {"backend": "local", **report}

    def _out(self, row: SandboxConfigRow) -> SandboxConfig:
        out = _config_out(row)
        out.containment = self.containment() if row.type == "local" else {"mechanism": "E2B cloud sandbox (remote)"}
        return out

    async def apply(self) -> None:
        """Make the running sandboxes match the stored configs (after every change)."""
        if self.router is None:
            return
        try:
            await self.router.reload(lambda: load_plan(self.db, self.settings))
        except SandboxError as exc:
            logger.exception("the stored sandbox config could not be applied; the previous sandbox keeps running")
            raise BadRequestError(f"The sandbox config was saved but could not be applied: {exc}. "
                                  "Fix it with PATCH /v1/sandbox-config/{id}; the previous sandbox keeps running.") from None

    # configs
    async def list(self, *, sandbox_type: str | None, after: str | None, limit: int | None) -> list[SandboxConfig]:
        async with self.db.session() as s:
            stmt = select(SandboxConfigRow)
            if sandbox_type:
                stmt = stmt.where(SandboxConfigRow.type == sandbox_type)
            rows = await paginate(s, stmt, SandboxConfigRow, before=None, after=after, limit=limit, ascending=True)
            return [self._out(r) for r in rows]

    async def _get(self, s: Any, config_id: str) -> SandboxConfigRow:
        row = await s.get(SandboxConfigRow, config_id)
        if row is None:
            raise NotFoundError.for_id("Sandbox config", config_id)
        return row

    async def _by_type(self, s: Any, kind: str) -> SandboxConfigRow | None:
        stmt = select(SandboxConfigRow).where(SandboxConfigRow.type == kind).order_by(SandboxConfigRow.created_at)
        rows = (await s.execute(stmt)).scalars().all()
        return rows[-1] if rows else None

    async def upsert(self, config: dict[str, Any], kind: SandboxType | None = None) -> SandboxConfig:
        kind = kind or infer_type(config)
        data = _validated(kind, config)
        async with self.db.transaction() as s:
            row = await self._by_type(s, kind)
            if row is None:
                row = SandboxConfigRow(id=new_id("sandbox"), type=kind, config=data)
                s.add(row)
            else:
                row.config = data
        logger.info("saved the %s sandbox config %s", kind, row.id)
        await self.apply()
        return self._out(row)

    async def get_or_create_default(self, kind: SandboxType) -> SandboxConfig:
        async with self.db.session() as s:
            row = await self._by_type(s, kind)
        if row is not None:
            return self._out(row)
        data = default_e2b_config(self.settings) if kind == "e2b" else default_local_config(self.settings)
        return await self.upsert(data, kind)

    async def modify(self, config_id: str, body: SandboxConfigUpdate) -> SandboxConfig:
        async with self.db.transaction() as s:
            row = await self._get(s, config_id)
            if body.config is not None:
                row.config = _validated(row.type, {**(row.config or {}), **body.config})  # type: ignore[arg-type]
        await self.apply()
        return self._out(row)

    async def delete(self, config_id: str) -> None:
        async with self.db.transaction() as s:
            row = await self._get(s, config_id)
            for env in (await s.execute(select(SandboxEnvVarRow).where(
                    SandboxEnvVarRow.sandbox_config_id == config_id))).scalars():
                await s.delete(env)
            await s.delete(row)
        logger.info("deleted the %s sandbox config %s", row.type, config_id)
        await self.apply()

    async def recreate_venv(self) -> SandboxConfig:
        config = await self.get_or_create_default("local")
        if self.router is None:
            raise BadRequestError("no sandbox is running in this process")
        try:
            python = await self.router.recreate_local_venv()
        except SandboxError as exc:
            raise BadRequestError(f"Could not recreate the local sandbox venv: {exc}") from None
        logger.info("recreated the local sandbox venv: %s", python)
        return config

    # environment variables
    async def list_env(self, config_id: str, *, after: str | None, limit: int | None) -> list[SandboxEnvironmentVariable]:
        async with self.db.session() as s:
            await self._get(s, config_id)
            stmt = select(SandboxEnvVarRow).where(SandboxEnvVarRow.sandbox_config_id == config_id)
            rows = await paginate(s, stmt, SandboxEnvVarRow, before=None, after=after, limit=limit, ascending=True)
            return [_env_out(r) for r in rows]

    async def set_env(self, config_id: str, body: EnvVarCreate) -> SandboxEnvironmentVariable:
        """Create, or update the variable with the same key (Letta's behaviour)."""
        async with self.db.transaction() as s:
            await self._get(s, config_id)
            stmt = select(SandboxEnvVarRow).where(SandboxEnvVarRow.sandbox_config_id == config_id,
                                                  SandboxEnvVarRow.key == body.key)
            row = (await s.execute(stmt)).scalar_one_or_none()
            if row is None:
                row = SandboxEnvVarRow(id=new_id("sandbox-env"), sandbox_config_id=config_id, key=body.key,
                                       value=body.value, description=body.description)
                s.add(row)
            else:
                row.value = body.value
                if body.description is not None:
                    row.description = body.description
        logger.info("set sandbox env var %s on %s", body.key, config_id)
        await self.apply()
        return _env_out(row)

    async def modify_env(self, env_var_id: str, body: EnvVarUpdate) -> SandboxEnvironmentVariable:
        try:
            async with self.db.transaction() as s:
                row = await s.get(SandboxEnvVarRow, env_var_id)
                if row is None:
                    raise NotFoundError.for_id("Sandbox environment variable", env_var_id)
                for name, value in body.model_dump(exclude_unset=True, exclude_none=True).items():
                    if name == "value" and value == MASKED:
                        continue  # the masked view sent back: keep the stored secret
                    setattr(row, name, value)
        except IntegrityError:
            raise ConflictError(f"Sandbox config already has an environment variable {body.key!r}") from None
        logger.info("modified sandbox env var %s", row.key)
        await self.apply()
        return _env_out(row)

    async def delete_env(self, env_var_id: str) -> None:
        async with self.db.transaction() as s:
            row = await s.get(SandboxEnvVarRow, env_var_id)
            if row is None:
                raise NotFoundError.for_id("Sandbox environment variable", env_var_id)
            await s.delete(row)
        logger.info("deleted sandbox env var %s", row.key)
        await self.apply()
