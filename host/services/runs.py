"""Runs (a turn as a job) and steps: create, finish, list, inspect, cancel."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import bindparam, insert, literal, or_, select
from sqlalchemy.orm import Session

from host.agent.turn import RunLease
from host.domain.actor import acting_organization
from host.domain.messages import to_letta_messages
from host.errors import NotFoundError
from host.ids import DEFAULT_USER_ID, new_id, utcnow
from host.persistence.convert import message_out
from host.persistence.db import Database
from host.persistence.models import AgentRow, JobRow, MessageRow, StepRow
from host.persistence.paging import paginate
from host.persistence.tenancy import scope_org

ACTIVE = ("created", "running")


def _ts(v: Any) -> str | None:
    return v.replace(microsecond=0).isoformat() if v else None


def run_out(row: JobRow) -> dict[str, Any]:
    return {
        "created_by_id": DEFAULT_USER_ID, "last_updated_by_id": DEFAULT_USER_ID,
        "created_at": _ts(row.created_at), "updated_at": _ts(row.updated_at), "status": row.status,
        "completed_at": _ts(row.completed_at), "metadata": row.metadata_ or {}, "job_type": row.job_type,
        "callback_url": (row.request_config or {}).get("callback_url"), "callback_sent_at": None,
        "callback_status_code": None, "callback_error": None, "id": row.id, "user_id": DEFAULT_USER_ID,
        "request_config": row.request_config, "stop_reason": row.stop_reason, "agent_id": row.agent_id,
    }


def step_out(row: StepRow) -> dict[str, Any]:
    return {
        "id": row.id, "origin": None, "organization_id": acting_organization(), "provider_id": None, "job_id": row.run_id,
        "run_id": row.run_id,
        "agent_id": row.agent_id, "provider_name": row.provider_name, "provider_category": "base",
        "model": row.model, "model_endpoint": row.model_endpoint, "context_window_limit": row.context_window_limit,
        "completion_tokens": row.completion_tokens, "prompt_tokens": row.prompt_tokens,
        "total_tokens": row.total_tokens, "completion_tokens_details": None, "stop_reason": row.stop_reason,
        "tags": [], "tid": row.tid, "trace_id": None, "messages": [], "feedback": row.feedback, "project_id": None,
    }


# A run for an agent that exists, in one statement (atomic on its own: no transaction around it).
_jobs, _agents = JobRow.__table__, AgentRow.__table__
_COLUMNS = ("id", "job_type", "status", "agent_id", "request_config", "metadata", "created_at", "updated_at", "owner",
            "lease_expires_at", "payload", "organization_id")
_now = bindparam("now", type_=_jobs.c.created_at.type)
_CREATE = insert(_jobs).from_select(_COLUMNS, select(
    bindparam("run_id", type_=_jobs.c.id.type), literal("run"), bindparam("status", type_=_jobs.c.status.type),
    _agents.c.id, bindparam("request_config", type_=_jobs.c.request_config.type),
    bindparam("metadata", type_=_jobs.c.metadata.type), _now, _now, bindparam("owner", type_=_jobs.c.owner.type),
    bindparam("lease", type_=_jobs.c.lease_expires_at.type), bindparam("payload", type_=_jobs.c.payload.type),
    _agents.c.organization_id,  # the run belongs to its agent's organization
).where(_agents.c.id == bindparam("agent_id"),  # and only an agent of the caller's organization (org None: any)
        or_(bindparam("org", type_=_agents.c.organization_id.type).is_(None),
            _agents.c.organization_id == bindparam("org"))))


class RunService:
    def __init__(self, db: Database, *, lease_s: float = 30.0) -> None:
        self.db = db
        # This server process: the owner of the runs it starts, which it renews (host.services.recovery).
        self.instance_id = new_id("instance")
        self.lease_s = lease_s

    @property
    def lease(self) -> RunLease:
        """What a turn of this process carries: steps renew it, and write nothing once another process holds
        the run."""
        return RunLease(self.instance_id, self.lease_s)

    async def create(self, agent_id: str, request_config: dict[str, Any], *, status: str = "running",
                     payload: dict[str, Any] | None = None) -> str:
        """Start a run for the agent; a 404 naming the agent when it does not exist (checked by the insert
        itself, so callers need no separate existence check). ``payload``: the request, stored so that a run
        whose server stops before it writes anything can be run again (host.services.recovery)."""
        run_id = new_id("run")
        values = {"run_id": run_id, "status": status, "agent_id": agent_id, "request_config": request_config,
                  "metadata": {"agent_id": agent_id}, "now": utcnow(), "owner": self.instance_id, "payload": payload,
                  "org": scope_org()}
        values["lease"] = values["now"] + timedelta(seconds=self.lease_s)
        inserted = await self.db.write_one(lambda s: s.connection().execute(_CREATE, values).rowcount)
        if inserted == 0:
            raise NotFoundError.for_id("Agent", agent_id)
        return run_id

    async def finish(self, run_id: str, status: str, stop_reason: str | None, usage: dict[str, Any] | None = None,
                     error: str | None = None) -> None:
        def unit(s: Session) -> None:
            row = s.get(JobRow, run_id, with_for_update=True)
            if row is None or row.owner not in (None, self.instance_id):  # another process's run now: it closes it
                return
            row.status = "cancelled" if row.status == "cancelled" else status
            row.stop_reason = stop_reason
            row.completed_at = utcnow()
            if usage is not None:
                row.usage = usage
            if error:
                row.metadata_ = {**(row.metadata_ or {}), "error": error}

        await self.db.write(unit)

    async def set_status(self, run_id: str, status: str) -> None:
        async with self.db.transaction() as s:
            row = await s.get(JobRow, run_id)
            if row is not None:
                row.status = status

    async def _row(self, run_id: str) -> JobRow:
        async with self.db.session() as s:
            row = await s.get(JobRow, run_id)
            if row is None or row.job_type != "run":
                raise NotFoundError.for_id("Run", run_id)
            return row

    async def get(self, run_id: str) -> dict[str, Any]:
        return run_out(await self._row(run_id))

    async def list(self, *, agent_ids: list[str] | None = None, active: bool = False) -> list[dict[str, Any]]:
        async with self.db.session() as s:
            stmt = select(JobRow).where(JobRow.job_type == "run")
            if agent_ids:
                stmt = stmt.where(JobRow.agent_id.in_(agent_ids))
            if active:
                stmt = stmt.where(JobRow.status.in_(ACTIVE))
            rows = (await s.execute(stmt.order_by(JobRow.created_at.desc()))).scalars()
            return [run_out(r) for r in rows]

    async def active_ids(self, agent_id: str) -> list[str]:
        async with self.db.session() as s:
            rows = await s.execute(select(JobRow.id).where(JobRow.job_type == "run", JobRow.agent_id == agent_id,
                                                           JobRow.status.in_(ACTIVE)))
            return [r for (r,) in rows.all()]

    async def cancel(self, run_ids: list[str]) -> None:
        async with self.db.transaction() as s:
            for run_id in run_ids:
                row = await s.get(JobRow, run_id)
                if row is not None and row.status in ACTIVE:
                    row.status = "cancelled"

    async def delete(self, run_id: str) -> dict[str, Any]:
        row = await self._row(run_id)
        async with self.db.transaction() as s:
            await s.delete(await s.get(JobRow, row.id))
        return run_out(row)

    async def messages(self, run_id: str, *, limit: int | None = 100, order: str = "asc", role: str | None = None,
                       before: str | None = None, after: str | None = None) -> list[dict[str, Any]]:
        """The run's messages; ``before``/``after`` are message ids (cursors), in the order's direction."""
        await self._row(run_id)
        async with self.db.session() as s:
            stmt = select(MessageRow).where(MessageRow.run_id == run_id)
            if role:
                stmt = stmt.where(MessageRow.role == role)
            rows = await paginate(s, stmt, MessageRow, before=before, after=after, limit=limit or None,
                                  ascending=order == "asc", order_col="seq")
            out: list[dict[str, Any]] = []
            for r in rows:
                out.extend(to_letta_messages(message_out(r)))
            return out

    async def usage(self, run_id: str) -> dict[str, Any]:
        row = await self._row(run_id)
        usage = row.usage or {}
        return {"completion_tokens": usage.get("completion_tokens", 0), "prompt_tokens": usage.get("prompt_tokens", 0),
                "total_tokens": usage.get("total_tokens", 0)}

    async def steps(self, run_id: str | None = None, *, agent_id: str | None = None, limit: int | None = 50,
                    order: str = "desc", model: str | None = None) -> list[dict[str, Any]]:
        if run_id:
            await self._row(run_id)
        async with self.db.session() as s:
            stmt = select(StepRow)
            if run_id:
                stmt = stmt.where(StepRow.run_id == run_id)
            if agent_id:
                stmt = stmt.where(StepRow.agent_id == agent_id)
            if model:
                stmt = stmt.where(StepRow.model == model)
            stmt = stmt.order_by(StepRow.seq.asc() if order == "asc" else StepRow.seq.desc())
            return [step_out(r) for r in (await s.execute(stmt.limit(limit) if limit else stmt)).scalars()]

    async def step(self, step_id: str) -> dict[str, Any]:
        async with self.db.session() as s:
            row = (await s.execute(select(StepRow).where(StepRow.id == step_id))).scalar_one_or_none()
            if row is None:
                raise NotFoundError.for_id("Step", step_id)
            return step_out(row)

    async def set_transaction_id(self, step_id: str, transaction_id: str) -> dict[str, Any]:
        """Letta's ``PATCH /v1/steps/{step_id}/transaction/{transaction_id}``: the step's ``tid``."""
        async with self.db.transaction() as s:
            row = (await s.execute(select(StepRow).where(StepRow.id == step_id))).scalar_one_or_none()
            if row is None:
                raise NotFoundError.for_id("Step", step_id)
            row.tid = transaction_id
            return step_out(row)

    async def set_feedback(self, step_id: str, feedback: str | None) -> dict[str, Any]:
        async with self.db.transaction() as s:
            row = (await s.execute(select(StepRow).where(StepRow.id == step_id))).scalar_one_or_none()
            if row is None:
                raise NotFoundError.for_id("Step", step_id)
            row.feedback = feedback
            return step_out(row)
