"""Sending messages to an agent: synchronous, streamed (SSE), asynchronous; cancel; runs and steps."""

from __future__ import annotations

import time
from typing import Annotated, Any, Literal

from fastapi import Body, Depends, Query, Response
from fastapi.responses import JSONResponse, StreamingResponse

from host.api.routing import SlashRouter, services
from host.api.sse import sse_response, v1_sse_response
from host.api.v1gen.generation import V1, page_ordered
from host.api.v1gen.run_stream import start_background
from host.api.v1gen.wire import v1_response
from host.domain.letta import StopReason
from host.errors import InvalidRequestError
from host.schemas.messages import LettaAsyncRequest, LettaStreamingRequest
from host.services import Services

router = SlashRouter(tags=["agents"])
Svc = Annotated[Services, Depends(services)]


@router.post("/v1/agents/{agent_id}/messages", operation_id="send_message")
async def send_message(agent_id: str, body: LettaStreamingRequest, svc: Svc, v1: V1) -> Any:
    if body.streaming:  # 1.x: the same route streams (Letta refuses it to other clients, and so do we)
        if not v1:
            raise InvalidRequestError("streaming=true is only supported for SDK v1.0+ clients.")
        return await _stream(agent_id, body, svc, v1)
    started, cpu = time.perf_counter(), time.process_time()
    result = await svc.runner.send(agent_id, body)
    total, cpu, t = time.perf_counter() - started, time.process_time() - cpu, result.timings
    # W3C Server-Timing: where the turn's time went (the host's own work is total - model). The cpu
    # entries are the process's CPU time (per turn when turns run one at a time, as in the benchmark).
    timing = (f"model;dur={t.model * 1e3:.2f}, model-cpu;dur={t.model_cpu * 1e3:.2f}, db;dur={t.db * 1e3:.2f}, "
              f"tools;dur={t.tools * 1e3:.2f}, "
              f"total;dur={total * 1e3:.2f}, cpu;dur={cpu * 1e3:.2f}, steps;desc={result.usage.step_count}")
    answer = (v1_response(result.messages, StopReason(result.stop_reason), result.usage.statistics(), result.run_id)
              if v1 else result.as_letta())
    # Plain JSON built by the server itself: encoded as is (FastAPI's jsonable_encoder pass costs ~0.25 ms).
    return JSONResponse(answer, headers={"Server-Timing": timing})


@router.post("/v1/agents/{agent_id}/messages/stream", operation_id="create_agent_message_stream",
             response_class=StreamingResponse)
async def stream_message(agent_id: str, body: LettaStreamingRequest, svc: Svc, v1: V1) -> Response:
    return await _stream(agent_id, body, svc, v1)


async def _stream(agent_id: str, body: LettaStreamingRequest, svc: Svc, v1: bool) -> Response:
    """One run's events, encoded for the client's generation (0.8: no pings; 1.x: a ping first)."""
    run = await svc.runner.stream(agent_id, body)
    if not v1:
        return sse_response(run)
    pings = body.include_pings is not False
    if body.background:  # the run outlives this response; its events are stored and numbered
        return start_background(svc, run, pings)
    return v1_sse_response(run, pings=pings)


@router.post("/v1/agents/{agent_id}/messages/async", operation_id="create_agent_message_async")
async def send_async(agent_id: str, body: LettaAsyncRequest, svc: Svc) -> dict[str, Any]:
    return await svc.runner.start_async(agent_id, body)


@router.post("/v1/agents/{agent_id}/messages/cancel", operation_id="cancel_agent_run")
async def cancel(agent_id: str, svc: Svc,
                 run_ids: Annotated[list[str] | None, Body()] = None) -> dict[str, Any]:
    return await svc.runner.cancel(agent_id, run_ids)


@router.get("/v1/agents/{agent_id}/context", operation_id="retrieve_agent_context_window")
async def context_window(agent_id: str, svc: Svc) -> dict[str, Any]:
    return await svc.context_view(agent_id)


@router.get("/v1/runs/", operation_id="list_runs")
async def list_runs(svc: Svc, agent_ids: Annotated[list[str] | None, Query()] = None, agent_id: str | None = None,
                    after: str | None = None, before: str | None = None, limit: int | None = None,
                    order: Literal["asc", "desc"] = "desc") -> list[dict[str, Any]]:
    runs = await svc.runs.list(agent_ids=(agent_ids or []) + ([agent_id] if agent_id else []) or None)
    return page_ordered(runs if order == "desc" else runs[::-1], after, before, limit)  # 1.x cursors


@router.get("/v1/runs/active", operation_id="list_active_runs")
async def list_active_runs(svc: Svc, agent_ids: Annotated[list[str] | None, Query()] = None) -> list[dict[str, Any]]:
    return await svc.runs.list(agent_ids=agent_ids, active=True)


@router.get("/v1/runs/{run_id}", operation_id="retrieve_run")
async def retrieve_run(run_id: str, svc: Svc) -> dict[str, Any]:
    return await svc.runs.get(run_id)


@router.delete("/v1/runs/{run_id}", operation_id="delete_run")
async def delete_run(run_id: str, svc: Svc) -> dict[str, Any]:
    return await svc.runs.delete(run_id)


@router.get("/v1/runs/{run_id}/messages", operation_id="list_run_messages")
async def run_messages(run_id: str, svc: Svc, before: str | None = None, after: str | None = None,
                       limit: int | None = 100, order: str = "asc", role: str | None = None) -> list[dict[str, Any]]:
    found = await svc.runs.messages(run_id, limit=None, order=order, role=role)
    return page_ordered(found, after, before, limit)


@router.get("/v1/runs/{run_id}/usage", operation_id="retrieve_run_usage")
async def run_usage(run_id: str, svc: Svc) -> dict[str, Any]:
    return await svc.runs.usage(run_id)


@router.get("/v1/runs/{run_id}/steps", operation_id="list_run_steps")
async def run_steps(run_id: str, svc: Svc, limit: int | None = 100, order: str = "desc", after: str | None = None,
                    before: str | None = None) -> list[dict[str, Any]]:
    return page_ordered(await svc.runs.steps(run_id, limit=None, order=order), after, before, limit)


@router.get("/v1/steps/", operation_id="list_steps")
async def list_steps(svc: Svc, limit: int | None = 50, order: str = "desc", agent_id: str | None = None,
                     model: str | None = None, after: str | None = None,
                     before: str | None = None) -> list[dict[str, Any]]:
    if after is None and before is None:
        return await svc.runs.steps(None, agent_id=agent_id, limit=limit, order=order, model=model)
    found = await svc.runs.steps(None, agent_id=agent_id, limit=None, order=order, model=model)
    return page_ordered(found, after, before, limit)  # 1.x cursors


@router.get("/v1/steps/{step_id}", operation_id="retrieve_step")
async def retrieve_step(step_id: str, svc: Svc) -> dict[str, Any]:
    return await svc.runs.step(step_id)


@router.patch("/v1/steps/{step_id}/feedback", operation_id="add_feedback")
async def step_feedback(step_id: str, svc: Svc, feedback: str | None = None) -> dict[str, Any]:
    return await svc.runs.set_feedback(step_id, feedback)
