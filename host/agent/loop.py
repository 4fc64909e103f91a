"""The agent loop: one turn = a few explicit states, repeated per step.

    prepare  -> load the agent, add the user's messages (or resume a call paused for approval)
    call     -> the model, offered only the tools the rule solver allows (one allowed: forced)
    dispatch -> each tool call through the one dispatcher; rules decide continue, pause or finish
    persist  -> the step (messages, usage, memory edits, in-context ids) in one transaction
    continue | finish (terminal tool, nothing asks to continue, no tool allowed, approval, max_steps,
                       cancelled)

``letta_v1_agent`` is a mode of this same loop (``AgentSnapshot.v1_loop``): tools are offered with
``tool_choice: auto`` and without ``request_heartbeat``/inner thoughts, every tool call continues the
turn, and the model's plain text (its answer without a tool call) is the assistant_message and ends it.

Run state lives in ``RunState``; services are injected into ``AgentLoop``. Tool failures and rule
violations are tool returns with status "error" that the model sees; the turn goes on.

Client-side tools (1.x ``client_tools``) pause the same way: the call comes back as an
``approval_request_message``, and the client's answer carries the tool's result, which becomes the
call's return before the turn goes on.

Approval (``requires_approval`` rule): the step that calls such a tool is written with the call and
no return, an ``approval_request_message`` is emitted and the turn stops with ``requires_approval``.
The next request must carry ``{"type": "approval", ...}``: the call then runs (or is refused, the
model being told the reason) and the turn continues from there.
"""

from __future__ import annotations

import json
import logging
import time
from dataclasses import dataclass, field, replace
from typing import Any

import anyio

from builtin_tools import AgentMessengerPort
from host import llm
from host.agent.context import INNER_THOUGHTS, fit_window
from host.agent.locks import AgentLocks
from host.agent.ports import LoopTelemetry, NoTelemetry
from host.agent.step_write import StepWrite, write_step
from host.agent.store import (
    HistoryCache,
    Loaded,
    apply_refresh,
    load_turn,
    memory_counts,
    refresh,
    refresh_reader,
    system_text,
)
from host.agent.streaming import TokenStreamer
from host.agent.turn import Emit, Timings, TurnRequest, TurnResult
from host.agent.turn_state import ToolOutcome, Turn, denial_text, new_turn, offered, package_return, step_request
from host.domain.events import LettaMessageEvent
from host.domain.letta import ApprovalRequestMessage, LettaMessage, ToolReturnMessage
from host.domain.messages import (
    StoredMessage,
    ToolCallRecord,
    ToolReturnRecord,
    approval_request_message,
    letta_views,
    pending_approval,
)
from host.errors import ConflictError, InvalidRequestError, RunTakenOverError, UpstreamError
from host.ids import new_id, utcnow
from host.llm.providers import ProviderSettings
from host.persistence.byok import ByokMissingError, settings_for_llm
from host.persistence.db import Database
from host.persistence.secret_box import SecretBox, SecretBoxError
from host.storable import storable
from host.tools.calls import ToolCaller, ToolScope

logger = logging.getLogger(__name__)


@dataclass
class LoopDeps:
    """What the loop is built from. ``tools`` runs rule-checked calls; its ``ToolContextFactory`` (archival,
    recall, the server's keys) comes from the services, injected at wiring time."""

    db: Database
    providers: ProviderSettings
    tools: ToolCaller
    locks: AgentLocks
    llm_timeout_s: float = 120.0
    history: HistoryCache = field(default_factory=HistoryCache)
    secrets: SecretBox | None = None  # decrypts an organization's own provider key (host.persistence.byok)
    telemetry: LoopTelemetry = field(default_factory=NoTelemetry)


class AgentLoop:
    def __init__(self, deps: LoopDeps) -> None:
        self.d = deps

    async def run(self, req: TurnRequest, emit: Emit | None = None, timings: Timings | None = None, *,
                  messenger: AgentMessengerPort | None = None) -> TurnResult:
        """Run one turn; ``timings`` (the caller's, to add its own parts) collects where the time went."""
        timings = timings or Timings()
        with self.d.telemetry.span("agent.turn", {"agent.id": req.agent_id, "run.id": req.run_id or ""}):
            async with self.d.locks.hold(req.agent_id):
                with timings.measure("db"):
                    loaded = await load_turn(self.d.db, req.agent_id, cache=self.d.history, run_id=req.run_id)
                if req.lease is not None and req.run_id is not None and (
                        loaded.run_owner != req.lease.owner or loaded.run_status in (None, "failed", "completed")):
                    raise RunTakenOverError.for_run(req.run_id)  # while it waited for the agent: no model call
                return await self._turn(req, loaded, emit, timings, messenger)

    # ---- one turn ------------------------------------------------------------------------------
    async def _turn(self, req: TurnRequest, loaded: Loaded, emit: Emit | None, timings: Timings,
                    messenger: AgentMessengerPort | None) -> TurnResult:
        snap = loaded.snap
        t = new_turn(req, loaded, emit, timings, messenger)
        paused = pending_approval(t.context)
        if req.approval is None and paused is not None:
            msg, call = paused
            raise ConflictError(
                f"Agent {snap.id} is waiting for approval of tool call {call.id} ({call.name}). Send "
                f'{{"type": "approval", "approve": true|false, "approval_request_id": "{msg.id}"}} first.')
        pending = [self.input_message(req, i) for i in req.messages]
        started = time.perf_counter()
        heartbeat = not loaded.cancelled
        if loaded.cancelled:
            t.state.stop_reason = "cancelled"
        elif req.approval is not None:
            heartbeat = await self._resume(t, paused)
        t.context.extend(pending)
        while heartbeat:
            if t.state.usage.step_count >= req.max_steps:
                t.state.stop_reason = "max_steps"
                break
            if t.state.usage.step_count:  # the load was fresh for the first step
                if t.refreshed is not None:  # read by the last step's write, in its transaction
                    fresh, t.refreshed = apply_refresh(t.memory.blocks, t.refreshed), None
                else:
                    with t.state.timings.measure("db"):
                        fresh = await refresh(self.d.db, snap.id, t.memory.blocks, req.run_id)
                t.recall, t.archival = fresh.recall, fresh.archival
                if fresh.memory_modified is not None:
                    snap.memory_modified = max(fresh.memory_modified, snap.memory_modified or fresh.memory_modified)
                if fresh.cancelled:
                    t.state.stop_reason = "cancelled"
                    break
            with self.d.telemetry.span("agent.step", {"agent.id": snap.id, "step.number": t.state.usage.step_count}):
                heartbeat = await self._step(t, pending)
            pending = []
        if not t.closed and snap.autoclear and t.state.stop_reason != "requires_approval":
            await self._write(t, StepWrite(agent_id=snap.id, step=None, messages=[],
                                           in_context_ids=[t.system_id] if t.system_id else [],
                                           changed_blocks=[], system_message_id=None, system_text=None))
        elapsed = time.perf_counter() - started
        self.d.telemetry.turn(elapsed, t.state.stop_reason)
        logger.info("agent %s run %s: %d steps, stop=%s, %.1f ms", snap.id, req.run_id, t.state.usage.step_count,
                    t.state.stop_reason, elapsed * 1000)
        return TurnResult(messages=t.state.messages, stop_reason=t.state.stop_reason, usage=t.state.usage,
                          run_id=req.run_id, run_closed=t.closed, timings=t.state.timings,
                          sleeptime_main=snap.sleeptime_main)

    @staticmethod
    def input_message(req: TurnRequest, i: Any) -> StoredMessage:
        msg = StoredMessage(id=new_id("message"), agent_id=req.agent_id, role="user", text=i.text, name=i.name,
                            sender_id=i.sender_id, otid=i.otid, run_id=req.run_id, created_at=utcnow())
        if i.role == "system":  # a system message from the client reaches the model as a user-side note
            msg.text = json.dumps({"type": "system_message", "message": i.text})
        return msg

    # ---- one step --------------------------------------------------------------------------------
    async def _step(self, t: Turn, pending: list[StoredMessage]) -> bool:
        req, snap, state = t.req, t.snap, t.state
        step_id = new_id("step")
        recall, archival = t.recall + len(pending), t.archival
        sys_text = system_text(replace(snap, blocks=t.memory.blocks), recall, archival)
        specs, tool_choice = offered(t)
        try:
            providers = await settings_for_llm(self.d.db, self.d.secrets, snap.llm, self.d.providers)
        except (ByokMissingError, SecretBoxError) as exc:
            raise UpstreamError(f"The model call failed ({snap.llm.handle or snap.llm.model}): {exc}") from None
        summary_msg = await fit_window(snap, t.context, sys_text, specs, providers, self.d.llm_timeout_s)
        request = step_request(t, sys_text, specs, tool_choice, self.d.llm_timeout_s)
        assistant_id = new_id("message")
        called = time.perf_counter()
        try:
            with state.timings.measure("model"), self.d.telemetry.span(
                    "llm.call", {"gen_ai.request.model": snap.llm.model, "step.id": step_id}):
                if req.stream_tokens and t.emit is not None:
                    response = await TokenStreamer(req, assistant_id, step_id, t.emit).run(request, providers)
                else:
                    response = await llm.complete(request, providers)
        except llm.LlmError as exc:  # nothing of this step is written; the stored history is unchanged
            self.d.telemetry.model_failed(snap.llm.model, time.perf_counter() - called)
            raise UpstreamError(f"The model call failed ({snap.llm.handle or snap.llm.model}): {exc}") from None
        self.d.telemetry.model_call(step_id, snap.id, request, response, time.perf_counter() - called)

        state.usage.step_count += 1
        state.usage.prompt_tokens += response.usage.prompt_tokens
        state.usage.completion_tokens += response.usage.completion_tokens
        state.usage.total_tokens += response.usage.total_tokens

        reasoning = storable(response.content or response.reasoning)  # (no NUL: see host.storable)
        parsed: list[tuple[ToolCallRecord, dict[str, Any] | None, str | None]] = []
        for call in response.tool_calls:
            args: dict[str, Any] | None = None
            error = None
            try:
                value = storable(json.loads(call.arguments_json or "{}"))
                if not isinstance(value, dict):
                    raise ValueError("arguments are not a JSON object")
                thoughts = value.pop(INNER_THOUGHTS, None)
                if isinstance(thoughts, str) and thoughts and not reasoning:
                    reasoning = thoughts
                args = value
            except (json.JSONDecodeError, ValueError) as exc:
                error = f"Invalid JSON arguments for {call.name}: {exc}. Send a JSON object."
            record = ToolCallRecord(id=call.id or new_id("call"), name=call.name,
                                    arguments=json.dumps(args) if args is not None else call.arguments_json)
            parsed.append((record, args, error))
        assistant = StoredMessage(id=assistant_id, agent_id=snap.id, role="assistant", text=reasoning,
                                  tool_calls=[p[0] for p in parsed], model=snap.llm.model, step_id=step_id,
                                  run_id=req.run_id, created_at=utcnow(),
                                  thinking_blocks=[dict(b) for b in response.thinking_blocks])
        new_messages: list[StoredMessage] = [assistant]
        approvals: list[ToolCallRecord] = []

        heartbeat = False
        if not parsed:
            state.stop_reason = "end_turn" if reasoning else "no_tool_call"
        for record, args, error in parsed:
            if approvals:  # an earlier call of this response waits for approval: the rest do not run
                out = ToolOutcome(text=f"Not run: the turn paused for approval of {approvals[0].name}. "
                                       f"Call {record.name} again if you still need it.")
            else:
                out = await self._one_call(t, record.name, args, error)
            if out.awaiting_approval:
                approvals.append(record)
                continue
            new_messages.append(self._tool_message(t, record, out, step_id))
            heartbeat = heartbeat or out.keep_going
        if approvals:
            heartbeat = False
            state.stop_reason = "requires_approval"
        elif heartbeat:
            state.stop_reason = "end_turn"

        for msg in pending:
            msg.step_id = step_id
        t.context.extend(new_messages)
        final = not heartbeat or state.usage.step_count >= req.max_steps
        if final and heartbeat:
            state.stop_reason = "max_steps"
        step_row = dict(id=step_id, agent_id=snap.id, run_id=req.run_id, provider_name=snap.llm.provider_name,
                        model=snap.llm.model, model_endpoint=snap.llm.model_endpoint,
                        context_window_limit=snap.llm.context_window, prompt_tokens=response.usage.prompt_tokens,
                        completion_tokens=response.usage.completion_tokens, total_tokens=response.usage.total_tokens,
                        stop_reason=state.stop_reason if final else None, created_at=utcnow())
        written = pending + ([summary_msg] if summary_msg else []) + new_messages
        t.recall = t.recall + len(written)
        await self._persist(t, step_row, written, final=final)

        letta = self._views(t, new_messages)
        for record in approvals:
            letta.append(approval_request_message(assistant, record, len(parsed)))
        await self._publish(t, letta)
        return heartbeat

    def _tool_message(self, t: Turn, record: ToolCallRecord, out: ToolOutcome, step_id: str | None) -> StoredMessage:
        return StoredMessage(
            id=new_id("message"), agent_id=t.snap.id, role="tool", text=storable(package_return(out.status, out.text)),
            name=record.name, tool_call_id=record.id,
            tool_return=ToolReturnRecord(status="success" if out.status == "success" else "error",
                                         stdout=storable(out.stdout), stderr=storable(out.stderr),
                                         raw=storable(out.text)),
            step_id=step_id, run_id=t.req.run_id, created_at=utcnow())

    async def _persist(self, t: Turn, step_row: dict[str, Any] | None, written: list[StoredMessage], *,
                       final: bool = False) -> None:
        """Write a step. The turn's last step also closes its run, and (``message_buffer_autoclear``)
        leaves only the system message in context."""
        clear = final and t.snap.autoclear and t.state.stop_reason != "requires_approval"
        in_context = ([t.system_id] if t.system_id else []) + ([] if clear else [m.id for m in t.context])
        changed = t.memory.changed_blocks()
        new_sys = None
        if changed:
            t.snap.message_ids = in_context
            t.snap.memory_modified = utcnow()
            new_sys = system_text(replace(t.snap, blocks=t.memory.blocks), t.recall, t.archival)
        # Another step follows: its refresh is read in this write's transaction, where the write is a unit.
        read_after = None if final else refresh_reader(t.snap.id, [b.block_id for b in t.memory.blocks if b.block_id],
                                                       t.req.run_id)
        w = StepWrite(
            agent_id=t.snap.id, step=step_row, messages=written, in_context_ids=in_context,
            changed_blocks=changed, system_message_id=t.system_id, system_text=new_sys, run_id=t.req.run_id,
            usage=t.state.usage.as_letta() if t.req.run_id else None,
            close_reason=t.state.stop_reason if final else None, lease=t.req.lease, read_after=read_after)
        await self._write(t, w)
        t.refreshed = w.read_back
        t.closed = t.closed or final
        t.memory.changed_labels.clear()
        t.snap.message_ids = in_context

    async def _write(self, t: Turn, w: StepWrite) -> None:
        """Write, then keep the in-context messages cached for the next turn, unless the agent row
        changed under this turn (an edit from elsewhere): then the next turn reads them afresh."""
        w.expected_version = t.version
        with anyio.CancelScope(shield=True):
            with t.state.timings.measure("db"):
                unchanged = await write_step(self.d.db, w)
        if unchanged and t.version is not None:
            t.version = w.written_at
            kept = {m.id: m for m in t.context}
            if t.system is not None:
                kept[t.system.id] = t.system
            self.d.history.put(t.snap.id, w.written_at, [kept[i] for i in w.in_context_ids if i in kept])
        else:
            t.version = None
            self.d.history.drop(t.snap.id)

    def _views(self, t: Turn, messages: list[StoredMessage]) -> list[LettaMessage]:
        req = t.req
        letta: list[LettaMessage] = []
        for msg in messages:
            letta.extend(letta_views(msg, use_assistant_message=req.use_assistant_message,
                                     assistant_tool=req.assistant_tool, assistant_kwarg=req.assistant_kwarg))
        return letta

    async def _publish(self, t: Turn, letta: list[LettaMessage]) -> None:
        if t.req.include_types is not None:
            letta = [m for m in letta if m.message_type in t.req.include_types]
        t.state.messages.extend(letta)
        if t.emit is None:
            return
        for m in letta:
            if t.req.stream_tokens and not isinstance(m, (ToolReturnMessage, ApprovalRequestMessage)):
                continue  # already streamed token by token
            await t.emit(LettaMessageEvent(m))

    # ---- tool calls ------------------------------------------------------------------------------
    async def _one_call(self, t: Turn, name: str, args: dict[str, Any] | None, error: str | None, *,
                        approved: bool = False) -> ToolOutcome:
        """Run one tool call under the rules (``host.tools.calls``), then let the decision steer the turn."""
        solver, state = t.solver, t.state
        if error is not None or args is None:
            return ToolOutcome(text=error or "invalid arguments")
        tool = t.snap.tool(name)
        if tool is None and t.is_client_tool(name):  # the client runs it: the turn pauses for its result
            return ToolOutcome(awaiting_approval=True, keep_going=False)
        if tool is None:
            allowed = ", ".join(sorted(solver.allowed_tools(state.solver))) or "none"
            return ToolOutcome(text=f"Tool {name!r} does not exist for this agent. Tools you may call: {allowed}")
        scope = ToolScope(agent_id=t.snap.id, agent_name=t.snap.name, env=t.snap.env)
        called = time.perf_counter()
        with self.d.telemetry.span("tool.call", {"tool.name": name, "tool.type": tool.tool_type or ""}), \
                state.timings.measure("tools"):
            call = await self.d.tools.call(solver, state.solver, scope, tool, args, t.memory, approved=approved,
                                           call_depth=t.req.call_depth, messenger=t.messenger)
        if call.result is not None:
            self.d.telemetry.tool_call(name, call.result.status, time.perf_counter() - called)
        state.solver = call.state
        if call.refusal is not None:
            return ToolOutcome(text=call.refusal)
        if call.awaiting_approval or call.result is None or call.decision is None:
            return ToolOutcome(awaiting_approval=True, keep_going=False)
        result, decision = call.result, call.decision
        out = ToolOutcome(status=result.status, text=result.text, stdout=result.stdout, stderr=result.stderr)
        if decision.kind == "end_turn":
            state.stop_reason = decision.stop_reason or "end_turn"
            out.keep_going = False
        elif decision.kind == "continue":
            note = decision.message or (
                "You must call these tools before ending your response: " + ", ".join(decision.missing_required)
                if decision.missing_required else "")
            out.text += f"\n\n{note}" if note else ""
        else:  # the model decides: go on when it asked for a heartbeat, or when the tool failed (to recover);
            # letta_v1_agent always goes on: the turn ends when the model answers without a tool call
            out.keep_going = t.snap.v1_loop or call.wants_heartbeat or result.status == "error"
            if not out.keep_going:
                state.stop_reason = "end_turn"
        return out

    async def _resume(self, t: Turn, paused: tuple[StoredMessage, ToolCallRecord] | None) -> bool:
        """Answer the call that paused the last turn: run it (approved) or refuse it. Continue the turn?"""
        approval = t.req.approval
        assert approval is not None
        if paused is None:
            raise ConflictError(f"Agent {t.snap.id} has no tool call waiting for approval.")
        msg, call = paused
        if approval.request_id not in (msg.id, call.id):
            raise InvalidRequestError(f"approval_request_id {approval.request_id!r} does not match the pending "
                                      f"request {msg.id!r} (tool call {call.id}, {call.name}).")
        if t.req.messages:
            raise InvalidRequestError("Send the approval alone: other messages can follow once the turn is over.")
        if approval.tool_return is not None:  # a client-side tool's result, as the client ran it
            out = ToolOutcome(status="success" if approval.status == "success" else "error",
                              text=approval.tool_return, keep_going=True)
        elif approval.approve:
            try:
                args = json.loads(call.arguments or "{}")
            except json.JSONDecodeError:
                args = None
            out = await self._one_call(t, call.name, args if isinstance(args, dict) else None, None, approved=True)
        else:
            out = ToolOutcome(text=denial_text(approval.reason))
        logger.info("agent %s: tool call %s (%s) %s", t.snap.id, call.id, call.name,
                    "approved" if approval.approve else "denied")
        ret = self._tool_message(t, call, out, msg.step_id)
        t.context.append(ret)
        t.recall, t.archival = await memory_counts(self.d.db, t.snap.id)
        t.recall += 1
        await self._persist(t, None, [ret])
        await self._publish(t, self._views(t, [ret]))
        return out.keep_going


__all__ = ["AgentLoop", "LoopDeps", "ToolOutcome", "denial_text"]
