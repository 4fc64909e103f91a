"""Turns as runs: synchronous, streamed over SSE, or in the background; cancellation.

Background runs live in a task group that the application lifespan owns; nothing is fire-and-forget.
"""

from __future__ import annotations

import json
import logging
import math
from contextlib import asynccontextmanager
from typing import Any, AsyncIterator

import anyio
from anyio.abc import TaskGroup

from host.agent.loop import AgentLoop
from host.agent.turn import InputMessage, TurnRequest, TurnResult
from host.errors import HostError, NotFoundError
from host.schemas.messages import LettaAsyncRequest, LettaRequest, LettaStreamingRequest
from host.services.runs import RunService

logger = logging.getLogger(__name__)


def turn_request(agent_id: str, body: LettaRequest, run_id: str | None, *, stream_tokens: bool = False,
                 call_depth: int = 0) -> TurnRequest:
    return TurnRequest(
        agent_id=agent_id,
        messages=[InputMessage(role=m.role if m.role in ("user", "system") else "user", text=m.text(), name=m.name,
                               sender_id=m.sender_id, otid=m.otid) for m in body.messages],
        max_steps=body.max_steps,
        use_assistant_message=body.use_assistant_message,
        assistant_tool=body.assistant_message_tool_name,
        assistant_kwarg=body.assistant_message_tool_kwarg,
        include_types=frozenset(body.include_return_message_types) if body.include_return_message_types else None,
        stream_tokens=stream_tokens,
        run_id=run_id,
        call_depth=call_depth,
    )


def _sse(data: Any) -> bytes:
    payload = data if isinstance(data, str) else json.dumps(data, ensure_ascii=False, default=str)
    return f"data: {payload}\n\n".encode()


class Runner:
    def __init__(self, loop: AgentLoop, runs: RunService, agents_exist: Any) -> None:
        self.loop = loop
        self.runs = runs
        self._exists = agents_exist
        self._tg: TaskGroup | None = None
        self._scopes: dict[str, anyio.CancelScope] = {}

    @asynccontextmanager
    async def running(self) -> AsyncIterator["Runner"]:
        async with anyio.create_task_group() as tg:
            self._tg = tg
            try:
                yield self
            finally:
                tg.cancel_scope.cancel()
                self._tg = None

    async def _cancelled(self, run_id: str) -> bool:
        return await self.runs.is_cancelled(run_id)

    async def _execute(self, req: TurnRequest, emit: Any = None) -> TurnResult:
        assert req.run_id is not None
        with anyio.CancelScope() as scope:
            self._scopes[req.run_id] = scope
            try:
                result = await self.loop.run(req, emit, is_cancelled=lambda: self._cancelled(req.run_id or ""))
            except BaseException as exc:
                with anyio.CancelScope(shield=True):
                    cancelled = isinstance(exc, anyio.get_cancelled_exc_class())
                    await self.runs.finish(req.run_id, "cancelled" if cancelled else "failed",
                                           "cancelled" if cancelled else "error",
                                           error=None if cancelled else str(exc))
                raise
            finally:
                self._scopes.pop(req.run_id, None)
        if scope.cancelled_caught:
            await self.runs.finish(req.run_id, "cancelled", "cancelled")
            return TurnResult(messages=[], stop_reason="cancelled", usage=result_usage(), run_id=req.run_id)
        status = "cancelled" if result.stop_reason == "cancelled" else "completed"
        await self.runs.finish(req.run_id, status, result.stop_reason, result.usage.as_letta())
        return result

    async def send(self, agent_id: str, body: LettaRequest, *, call_depth: int = 0) -> TurnResult:
        await self._exists(agent_id)
        run_id = await self.runs.create(agent_id, {"use_assistant_message": body.use_assistant_message})
        return await self._execute(turn_request(agent_id, body, run_id, call_depth=call_depth))

    async def stream(self, agent_id: str, body: LettaStreamingRequest) -> AsyncIterator[bytes]:
        """Validate up front (so a bad agent id is a 404, not a broken stream), then stream the turn."""
        await self._exists(agent_id)
        run_id = await self.runs.create(agent_id, {"stream_tokens": body.stream_tokens})
        req = turn_request(agent_id, body, run_id, stream_tokens=body.stream_tokens)
        return self._stream(req)

    async def _stream(self, req: TurnRequest) -> AsyncIterator[bytes]:
        send, receive = anyio.create_memory_object_stream[bytes](math.inf)

        async def emit(msg: dict[str, Any]) -> None:
            await send.send(_sse(msg))

        async def produce() -> None:
            async with send:
                try:
                    result = await self._execute(req, emit)
                    await send.send(_sse({"message_type": "stop_reason", "stop_reason": result.stop_reason}))
                    await send.send(_sse(result.usage.as_letta()))
                    await send.send(_sse("[DONE]"))
                except HostError as exc:
                    await send.send(_sse({"message_type": "error_message", "error_type": type(exc).__name__,
                                          "message": exc.detail, "detail": exc.detail}))
                    await send.send(_sse({"message_type": "stop_reason", "stop_reason": "error"}))
                    await send.send(_sse("[DONE]"))
                except Exception as exc:  # never a traceback on the wire
                    logger.exception("stream for agent %s failed", req.agent_id)
                    await send.send(_sse({"message_type": "error_message", "error_type": "internal_error",
                                          "message": f"Internal error: {type(exc).__name__}"}))
                    await send.send(_sse({"message_type": "stop_reason", "stop_reason": "error"}))
                    await send.send(_sse("[DONE]"))

        async with anyio.create_task_group() as tg:
            tg.start_soon(produce)
            async with receive:
                async for chunk in receive:
                    yield chunk

    async def start_async(self, agent_id: str, body: LettaAsyncRequest) -> dict[str, Any]:
        await self._exists(agent_id)
        if self._tg is None:
            raise HostError("the server is shutting down")
        run_id = await self.runs.create(agent_id, {"callback_url": body.callback_url,
                                                   "use_assistant_message": body.use_assistant_message})
        req = turn_request(agent_id, body, run_id)

        async def background() -> None:
            try:
                await self._execute(req)
            except Exception:
                logger.exception("background run %s failed", run_id)

        self._tg.start_soon(background)
        return await self.runs.get(run_id)

    async def cancel(self, agent_id: str, run_ids: list[str] | None) -> dict[str, str]:
        await self._exists(agent_id)
        active = await self.runs.active_ids(agent_id)
        targets = [r for r in (run_ids or active) if r in active] if run_ids else active
        if run_ids:
            unknown = [r for r in run_ids if r not in active]
            for r in unknown:
                try:
                    await self.runs.get(r)
                except NotFoundError:
                    raise NotFoundError.for_id("Run", r) from None
        await self.runs.cancel(targets)
        for run_id in targets:
            scope = self._scopes.get(run_id)
            if scope is not None:
                scope.cancel()
        return {run_id: "cancelled" for run_id in targets}


def result_usage() -> Any:
    from host.agent.turn import Usage

    return Usage()
