"""Background streams (1.x): a run whose events are kept so it outlives its client, and their replay.

    POST /v1/agents/{id}/messages  {"streaming": true, "background": true}   SSE, events numbered by seq_id
    POST /v1/runs/{run_id}/stream  {"starting_after": n}                     SSE: events after n, then live

The run is produced by a task in the runner's task group (the lifespan's), not by the HTTP response: the
task encodes each typed event in 1.x shape, numbers it and stores it (``host.services.run_events``); the
response, and any later ``runs/{id}/stream``, only follow the stored events. A client that disconnects
stops following; the run goes on to its end.
"""

from __future__ import annotations

import logging
from typing import Annotated

import anyio
from fastapi import Depends, Response
from fastapi.responses import StreamingResponse
from pydantic import Field

from host.api.routing import SlashRouter, services
from host.api.sse import payload_sse_response
from host.api.v1gen.wire import ping, v1_payload
from host.domain.events import ErrorEvent, LettaMessageEvent, RunEvents
from host.schemas.common import RequestModel
from host.services import Services

logger = logging.getLogger(__name__)
router = SlashRouter(tags=["runs"])
Svc = Annotated[Services, Depends(services)]


class RunStreamRequest(RequestModel):
    starting_after: int = Field(default=0, ge=0, description="The seq_id after which to start (0: from the start).")
    include_pings: bool | None = None
    poll_interval: float | None = Field(default=None, ge=0)
    batch_size: int | None = Field(default=None, ge=1)
    agent_id: str | None = None
    otid: str | None = None
    run_id: str | None = None


def start_background(svc: Services, run: RunEvents, pings: bool) -> Response:
    """Hand the run to a task of the runner's task group; answer with a follower of its stored events."""
    log = svc.run_events

    async def produce() -> None:
        seq = 0
        try:
            if pings:
                seq += 1
                await log.append(run.run_id, seq, ping(run.run_id, seq))
            async for event in run:
                seq += 1
                numbered = isinstance(event, (LettaMessageEvent, ErrorEvent))
                await log.append(run.run_id, seq, v1_payload(event, run.run_id, seq if numbered else None))
        except Exception:
            logger.exception("background run %s: storing its events failed", run.run_id)
        finally:
            with anyio.CancelScope(shield=True):
                try:
                    await log.end(run.run_id, seq + 1)
                except Exception:
                    logger.exception("background run %s: could not mark its stream's end", run.run_id)

    svc.runner.start_soon(produce)
    return payload_sse_response(log.follow(run.run_id, 0))


@router.post("/v1/runs/{run_id}/stream", operation_id="retrieve_stream_for_run", response_class=StreamingResponse)
async def stream_run(run_id: str, svc: Svc, body: RunStreamRequest | None = None) -> Response:
    await svc.runs.get(run_id)  # 404 for an unknown run
    return payload_sse_response(svc.run_events.follow(run_id, (body or RunStreamRequest()).starting_after))


__all__ = ["RunStreamRequest", "router", "start_background"]
