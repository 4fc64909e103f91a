"""Turns as runs: synchronous, streamed, or in the background; cancellation.

Every turn runs in the task group that the application lifespan owns; nothing is fire-and-forget.

A streamed turn is a stream of typed events (``host.domain.events``): each LettaMessage as the loop
produces it, then the stop reason and the usage. Encoding happens at the edge that speaks a wire format
(SSE: ``host.api.sse``; the MCP server reads the events directly). A failure before the first event
raises (an ordinary JSON error response over HTTP). A failure after it becomes an ``ErrorEvent`` (Letta's
``error_message``) followed by the stop reason ``error``. A consumer that goes away (the HTTP client
disconnects) cancels its run: every step is written in one transaction, so the agent keeps a consistent
history (the interrupted step is not written).
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Callable, Coroutine, Sequence
from contextlib import asynccontextmanager
from dataclasses import replace
from typing import TYPE_CHECKING, Any

import anyio
from anyio.abc import TaskGroup

from host import llm
from host.agent.event_pump import pump_events
from host.agent.limits import TurnLimits, check_turn
from host.agent.loop import AgentLoop
from host.agent.messenger import AgentMessenger
from host.agent.ports import AgentExists, RunLedger, TurnObserver
from host.agent.turn import ApprovalInput, ClientToolSpec, InputMessage, Timings, TurnRequest, TurnResult, Usage
from host.domain.events import Emit, RunEvents, StopReasonEvent, TurnEvent, UsageEvent
from host.domain.letta import StopReason
from host.errors import HostError, InvalidRequestError, RunTakenOverError
from host.llm.providers import LLMConfig
from host.persistence.db import Database
from host.schemas.messages import ApprovalCreate, LettaAsyncRequest, LettaRequest, LettaStreamingRequest

if TYPE_CHECKING:
    from host.agent.operations import Compaction

logger = logging.getLogger(__name__)


def turn_request(agent_id: str, body: LettaRequest, run_id: str | None, *, stream_tokens: bool = False,
                 call_depth: int = 0) -> TurnRequest:
    approvals = [m for m in body.messages if isinstance(m, ApprovalCreate)]
    if len(approvals) > 1:
        raise InvalidRequestError("Send one approval per request.")
    approval = _approval(approvals[0]) if approvals else None
    return TurnRequest(
        agent_id=agent_id,
        messages=[InputMessage(role=m.role if m.role in ("user", "system") else "user", text=m.text(), name=m.name,
                               sender_id=m.sender_id, otid=m.otid)
                  for m in body.messages if not isinstance(m, ApprovalCreate)],
        max_steps=body.max_steps,
        use_assistant_message=body.use_assistant_message,
        assistant_tool=body.assistant_message_tool_name,
        assistant_kwarg=body.assistant_message_tool_kwarg,
        include_types=frozenset(body.include_return_message_types) if body.include_return_message_types else None,
        stream_tokens=stream_tokens,
        run_id=run_id,
        call_depth=call_depth,
        approval=approval,
        client_tools=tuple(ClientToolSpec(name=t.name, description=t.description or "",
                                          parameters=t.parameters or {"type": "object", "properties": {}})
                           for t in body.client_tools or ()),
    )


def _approval(answer: ApprovalCreate) -> ApprovalInput:
    if answer.approvals:
        item = answer.approvals[0]
        if item.type == "tool":  # the client ran its own tool: this is the call's return
            return ApprovalInput(approve=True, request_id=item.tool_call_id, tool_return=item.return_text(),
                                 status=item.status or "success")
        return ApprovalInput(approve=bool(item.approve), request_id=item.tool_call_id, reason=item.reason)
    assert answer.approve is not None and answer.approval_request_id is not None  # the schema checked
    return ApprovalInput(approve=answer.approve, request_id=answer.approval_request_id, reason=answer.reason)


WARM_UP_DELAY_S = 2.0


class Runner:
    def __init__(self, loop: AgentLoop, runs: RunLedger, agents_exist: AgentExists, db: Database, *,
                 limits: TurnLimits | None = None) -> None:
        self.loop = loop
        self.runs = runs
        self.exists = agents_exist
        self.db = db
        self.limits = limits or TurnLimits()
        self._tg: TaskGroup | None = None
        self._scopes: dict[str, anyio.CancelScope] = {}
        self.observers: list[TurnObserver] = []  # told of every finished turn (sleep-time groups); must not block
        self.messenger = AgentMessenger(db, self)  # agent-to-agent delivery: runs turns through this runner

    @property
    def accepting(self) -> bool:
        """Whether the runner is running (between start-up and shutdown)."""
        return self._tg is not None

    @property
    def in_progress(self) -> int:
        """Turns running now (for the ``runs_in_progress`` gauge)."""
        return len(self._scopes)

    def start_soon(self, fn: Callable[[], Coroutine[Any, Any, None]]) -> None:
        """Run ``fn`` in the runner's task group (the lifespan's): nothing is fire-and-forget."""
        if self._tg is None:
            raise HostError("the server is shutting down")
        self._tg.start_soon(fn)

    @asynccontextmanager
    async def running(self) -> AsyncIterator[Runner]:
        async with anyio.create_task_group() as tg:
            self._tg = tg
            tg.start_soon(self._warm_up)
            try:
                yield self
            finally:
                tg.cancel_scope.cancel()
                self._tg = None
        with anyio.CancelScope(shield=True):
            await llm.aclose_clients()  # the pooled HTTP connections to OpenAI-compatible providers

    async def _warm_up(self) -> None:
        """Import litellm and do its first call's one-time work (seconds of CPU) when a configured provider
        needs it, in the background soon after start-up, not inside the first turn's model deadline (see
        ``llm.warm_up``). A server whose providers are all OpenAI-compatible calls them over HTTP and never
        imports litellm (about 120 MB). The token counter's encoding (about 25 MB) is not loaded here: only a
        prompt near its context window is tokenized (``host.agent.context``), so most servers never need it.

        It waits a moment first: the imports hold the GIL, and start-up (and the first health check) should
        not compete with them."""
        await anyio.sleep(WARM_UP_DELAY_S)
        try:
            if self.loop.d.providers.beyond_openai():
                await anyio.to_thread.run_sync(llm.warm_up, abandon_on_cancel=True)
        except Exception:
            logger.exception("warming up the model layer failed; the first model call will try again")

    async def admit(self, req: TurnRequest) -> None:
        """The input limits (``host.agent.limits``): every way into a turn passes here before it writes
        anything. ``send``, ``stream`` and ``start_async`` call it; callers that create runs themselves and
        then ``execute`` call it first."""
        await check_turn(self.db, req, self.limits)

    async def execute(self, req: TurnRequest, emit: Emit | None = None, timings: Timings | None = None) -> TurnResult:
        """Run a turn for a run already created (``req.run_id``), and close the run."""
        run_id = req.run_id
        assert run_id is not None
        req = req if req.lease is not None else replace(req, lease=self.runs.lease)
        with anyio.CancelScope() as scope:
            self._scopes[run_id] = scope
            try:
                result = await self.loop.run(req, emit, timings, messenger=self.messenger)
            except RunTakenOverError:  # another process holds the run now: it is not this one's to close
                raise
            except BaseException as exc:
                with anyio.CancelScope(shield=True):
                    cancelled = isinstance(exc, anyio.get_cancelled_exc_class())
                    await self.runs.finish(run_id, "cancelled" if cancelled else "failed",
                                           "cancelled" if cancelled else "error",
                                           error=None if cancelled else str(getattr(exc, "detail", exc)))
                raise
            finally:
                self._scopes.pop(run_id, None)
        if scope.cancelled_caught:
            return TurnResult(messages=[], stop_reason="cancelled", usage=Usage(), run_id=run_id)
        if not result.run_closed:
            status = "cancelled" if result.stop_reason == "cancelled" else "completed"
            with result.timings.measure("db"):
                await self.runs.finish(run_id, status, result.stop_reason, result.usage.as_letta())
        for observe in self.observers:
            observe(req.agent_id, result)
        return result

    async def send(self, agent_id: str, body: LettaRequest, *, call_depth: int = 0) -> TurnResult:
        timings = Timings()
        req = turn_request(agent_id, body, None, call_depth=call_depth)
        await self.admit(req)
        with timings.measure("db"):
            run_id = await self.runs.create(agent_id, {"use_assistant_message": body.use_assistant_message})
        return await self.execute(replace(req, run_id=run_id), timings=timings)

    async def stream(self, agent_id: str, body: LettaStreamingRequest) -> RunEvents:
        """Start the turn and wait for its first event: a failure before it raises (a JSON error response)."""
        req = turn_request(agent_id, body, None, stream_tokens=body.stream_tokens)
        await self.admit(req)
        config = {"stream_tokens": body.stream_tokens, **({"background": True} if body.background else {})}
        run_id = await self.runs.create(agent_id, config)
        req = replace(req, run_id=run_id)

        async def produce(emit: Emit) -> list[TurnEvent]:
            try:
                result = await self.execute(req, emit)
            except Exception as exc:
                if not isinstance(exc, HostError):
                    logger.exception("streamed run %s of agent %s failed", run_id, agent_id)
                raise
            return [StopReasonEvent(StopReason(result.stop_reason)), UsageEvent(result.usage.statistics())]

        events = await pump_events(self.start_soon, produce, lambda: self._cancel_scope(run_id), run_id=run_id)
        return RunEvents(run_id, events)

    def _cancel_scope(self, run_id: str) -> None:
        scope = self._scopes.get(run_id)
        if scope is not None and not scope.cancel_called:
            logger.info("run %s: the streaming client went away; cancelling", run_id)
            scope.cancel()

    async def start_async(self, agent_id: str, body: LettaAsyncRequest) -> dict[str, Any]:
        """Queue the turn as a run and return the run. The request is stored with it, so a run whose server
        stops before the turn writes anything is run again by the next server (``resume``)."""
        if self._tg is None:
            raise HostError("the server is shutting down")
        req = turn_request(agent_id, body, None)
        await self.admit(req)
        run_id = await self.runs.create(agent_id, {"callback_url": body.callback_url,
                                                   "use_assistant_message": body.use_assistant_message},
                                        payload={"request": body.model_dump(mode="json", exclude_unset=True)})
        self._in_background(replace(req, run_id=run_id))
        return await self.runs.get(run_id)

    def resume(self, run_id: str, agent_id: str, request: dict[str, Any]) -> None:
        """Run again an async run (already claimed by this process) whose first server stopped before its
        turn wrote anything. Raises when the stored request no longer validates."""
        self._in_background(turn_request(agent_id, LettaAsyncRequest.model_validate(request), run_id))

    def _in_background(self, req: TurnRequest) -> None:
        async def background() -> None:
            try:
                await self.execute(req)
            except HostError as exc:
                logger.warning("background run %s failed: %s", req.run_id, exc.detail)
            except Exception:
                logger.exception("background run %s failed", req.run_id)

        self.start_soon(background)

    async def preview(self, agent_id: str, body: LettaRequest) -> dict[str, Any]:
        """The provider request the turn's first step would send (host.agent.operations)."""
        from host.agent import operations

        return await operations.preview(self.loop, turn_request(agent_id, body, None))

    async def summarize(self, agent_id: str, keep: int, min_evicted: int = 1) -> Compaction:
        from host.agent import operations

        return await operations.summarize(self.loop, agent_id, keep, min_evicted)

    async def complete(self, config: LLMConfig, messages: Sequence[llm.ChatMessage],
                       tools: Sequence[llm.ToolSpec] = (), tool_choice: llm.ToolChoice = None) -> llm.LlmResponse:
        """One model call outside any turn (host.agent.operations.complete)."""
        from host.agent import operations

        return await operations.complete(self.loop, config, messages, tools, tool_choice)

    async def cancel(self, agent_id: str, run_ids: list[str] | None) -> dict[str, str]:
        await self.exists(agent_id)
        active = await self.runs.active_ids(agent_id)
        if run_ids:
            for r in run_ids:
                if r not in active:
                    await self.runs.get(r)  # 404 for an unknown run; a finished one is left alone
        targets = [r for r in run_ids if r in active] if run_ids else active
        await self.runs.cancel(targets)
        for run_id in targets:
            scope = self._scopes.get(run_id)
            if scope is not None:
                scope.cancel()
        return {run_id: "cancelled" for run_id in targets}
