"""The agent loop: one turn = a few explicit states, repeated per step.

    prepare  -> load the agent, add the user's messages, fit the context window
    call     -> the model, offered the tools the rule solver allows (streamed or not)
    dispatch -> each tool call through the one dispatcher; rules decide continue or finish
    persist  -> the step (messages, usage, memory edits, in-context ids) in one transaction
    continue | finish (terminal tool, nothing asks to continue, max_steps, cancelled)

Run state lives in ``RunState``; services are injected into ``AgentLoop``.
"""

from __future__ import annotations

import json
import logging
import time
from dataclasses import dataclass, replace
from typing import Any, Callable

import anyio
from builtin_tools import CoreMemory, ServicesConfig, ToolContext, strip_heartbeat

from host.agent import llm
from host.agent.context import (
    INNER_THOUGHTS,
    fallback_summary,
    needs_eviction,
    prompt_tokens,
    split_for_eviction,
    summary_message_text,
    summary_prompt,
    to_chat,
    tool_specs,
)
from host.agent.locks import AgentLocks
from host.agent.messages import StoredMessage, ToolCallRecord, ToolReturnRecord, part_otid, to_letta_messages
from host.agent.ports import ArchivalAdapter, RecallAdapter
from host.agent.store import StepWrite, load_snapshot, memory_counts, system_text, write_step
from host.agent.streaming import TokenStreamer
from host.agent.turn import AgentSnapshot, Emit, RunState, TurnRequest, TurnResult
from host.errors import UpstreamError
from host.ids import new_id, utcnow
from host.persistence.db import Database
from host.persistence.models import StepRow
from host.providers import ProviderSettings
from host.services.archival import ArchivalService
from host.services.messages import MessageService
from host.tools.dispatcher import ToolDispatcher
from host.tools.rules import ToolRulesSolver

logger = logging.getLogger(__name__)


@dataclass
class LoopDeps:
    db: Database
    providers: ProviderSettings
    dispatcher: ToolDispatcher
    archival: ArchivalService
    messages: MessageService
    locks: AgentLocks
    services_config: ServicesConfig
    server_env: dict[str, str]
    messenger_factory: Callable[[int], Any] | None = None
    llm_timeout_s: float = 120.0


def _package(status: str, text: str) -> str:
    """Letta's packaged tool return, as the model sees it."""
    return json.dumps({"status": "OK" if status == "success" else "Failed", "message": text,
                       "time": utcnow().strftime("%Y-%m-%d %I:%M:%S %p UTC+0000")}, ensure_ascii=False)


class AgentLoop:
    def __init__(self, deps: LoopDeps) -> None:
        self.d = deps

    async def run(self, req: TurnRequest, emit: Emit | None = None,
                  is_cancelled: Callable[[], Any] | None = None) -> TurnResult:
        async with self.d.locks.hold(req.agent_id):
            snap, history = await load_snapshot(self.d.db, req.agent_id)
            return await self._turn(req, snap, history, emit, is_cancelled)

    # ---- one turn ------------------------------------------------------------------------------
    async def _turn(self, req: TurnRequest, snap: AgentSnapshot, history: list[StoredMessage], emit: Emit | None,
                    is_cancelled: Callable[[], Any] | None) -> TurnResult:
        state = RunState()
        solver = ToolRulesSolver(rules=tuple(snap.rules), available_tools=frozenset(t.name for t in snap.tools))
        memory = CoreMemory.of(snap.blocks)
        system_id = history[0].id if history and history[0].role == "system" else None
        context = [m for m in history if m.role != "system"]
        pending = [StoredMessage(id=new_id("message"), agent_id=snap.id, role=i.role if i.role in ("user", "system")
                                 else "user", text=i.text, name=i.name, sender_id=i.sender_id, otid=i.otid,
                                 run_id=req.run_id, created_at=utcnow()) for i in req.messages]
        for msg in pending:
            if msg.role == "system":  # a system message from the client reaches the model as a user-side note
                msg.role = "user"
                msg.text = json.dumps({"type": "system_message", "message": msg.text})
        context.extend(pending)
        terminal = {r.tool_name for r in snap.rules if r.type == "exit_loop"}
        heartbeat = True
        started = time.perf_counter()
        while heartbeat:
            if state.usage.step_count >= req.max_steps:
                state.stop_reason = "max_steps"
                break
            if is_cancelled is not None and await is_cancelled():
                state.stop_reason = "cancelled"
                break
            heartbeat = await self._step(req, snap, solver, memory, state, context, pending, system_id,
                                         terminal, emit)
            pending = []
        if snap.autoclear:
            await write_step(self.d.db, StepWrite(agent_id=snap.id, step=None, messages=[],
                                                  in_context_ids=[system_id] if system_id else [],
                                                  changed_blocks=[], system_message_id=None, system_text=None))
        logger.info("agent %s turn done: %d steps, stop=%s, %.1f ms", snap.id, state.usage.step_count,
                    state.stop_reason, (time.perf_counter() - started) * 1000)
        return TurnResult(messages=state.messages, stop_reason=state.stop_reason, usage=state.usage,
                          run_id=req.run_id)

    # ---- one step --------------------------------------------------------------------------------
    async def _step(self, req: TurnRequest, snap: AgentSnapshot, solver: ToolRulesSolver, memory: CoreMemory,
                    state: RunState, context: list[StoredMessage], pending: list[StoredMessage],
                    system_id: str | None, terminal: set[str], emit: Emit | None) -> bool:
        step_id = new_id("step")
        recall, archival = await memory_counts(self.d.db, snap.id)
        sys_text = system_text(replace(snap, blocks=memory.blocks), recall + len(pending), archival)
        allowed = solver.allowed_tools(state.solver)
        specs = tool_specs(snap, allowed, terminal)
        forced = solver.forced_tool(state.solver)
        tool_choice: Any = None
        if specs:
            tool_choice = {"name": forced} if forced and forced in {s.name for s in specs} else "required"

        evicted_msgs, summary_msg = await self._fit_window(snap, context, sys_text, specs)
        chat = to_chat(context, sys_text)
        request = llm.LlmRequest(config=snap.llm, messages=chat, tools=specs, tool_choice=tool_choice,
                                 timeout_s=self.d.llm_timeout_s)
        assistant_id = new_id("message")
        try:
            if req.stream_tokens and emit is not None:
                response = await TokenStreamer(req, assistant_id, step_id, emit).run(request, self.d.providers)
            else:
                response = await llm.complete(request, self.d.providers)
        except llm.LlmError as exc:
            raise UpstreamError(f"The model call failed ({snap.llm.handle or snap.llm.model}): {exc}") from None

        state.usage.step_count += 1
        state.usage.prompt_tokens += response.usage.prompt_tokens
        state.usage.completion_tokens += response.usage.completion_tokens
        state.usage.total_tokens += response.usage.total_tokens

        calls = response.tool_calls
        reasoning = response.content or response.reasoning
        parsed: list[tuple[Any, dict[str, Any] | None, str | None]] = []
        for call in calls:
            try:
                args = json.loads(call.arguments_json or "{}")
                if not isinstance(args, dict):
                    raise ValueError("arguments are not a JSON object")
                thoughts = args.pop(INNER_THOUGHTS, None)
                if isinstance(thoughts, str) and thoughts and not reasoning:
                    reasoning = thoughts
                parsed.append((call, args, None))
            except (json.JSONDecodeError, ValueError) as exc:
                parsed.append((call, None, f"Invalid JSON arguments for {call.name}: {exc}"))
        assistant = StoredMessage(
            id=assistant_id, agent_id=snap.id, role="assistant", text=reasoning,
            tool_calls=[ToolCallRecord(id=c.id or new_id("call"), name=c.name,
                                       arguments=json.dumps(a) if a is not None else c.arguments_json)
                        for c, a, _ in parsed],
            model=snap.llm.model, step_id=step_id, run_id=req.run_id, created_at=utcnow())
        new_messages: list[StoredMessage] = [assistant]

        heartbeat = False
        if not calls:
            state.stop_reason = "end_turn" if reasoning else "no_tool_call"
        for (call, args, error), record in zip(parsed, assistant.tool_calls):
            status, text, stdout, stderr, decision_continue = await self._one_call(
                snap, solver, memory, state, record.name, args, error, req)
            new_messages.append(StoredMessage(
                id=new_id("message"), agent_id=snap.id, role="tool", text=_package(status, text), name=record.name,
                tool_call_id=record.id, tool_return=ToolReturnRecord(status=status, stdout=stdout, stderr=stderr, raw=text),
                step_id=step_id, run_id=req.run_id, created_at=utcnow()))
            heartbeat = heartbeat or decision_continue
        if heartbeat:
            state.stop_reason = "end_turn"

        for msg in pending:
            msg.step_id = step_id
        context.extend(new_messages)
        in_context = ([system_id] if system_id else []) + [m.id for m in context]
        step_row = StepRow(id=step_id, agent_id=snap.id, run_id=req.run_id, provider_name=snap.llm.provider_name,
                           model=snap.llm.model, model_endpoint=snap.llm.model_endpoint,
                           context_window_limit=snap.llm.context_window,
                           prompt_tokens=response.usage.prompt_tokens,
                           completion_tokens=response.usage.completion_tokens,
                           total_tokens=response.usage.total_tokens,
                           stop_reason=None if heartbeat else state.stop_reason, created_at=utcnow())
        changed = memory.changed_blocks()
        new_sys = None
        if changed:
            snap.message_ids = in_context
            new_sys = system_text(replace(snap, blocks=memory.blocks), recall + len(new_messages), archival)
        written = pending + ([summary_msg] if summary_msg else []) + new_messages
        with anyio.CancelScope(shield=True):
            await write_step(self.d.db, StepWrite(
                agent_id=snap.id, step=step_row, messages=written, in_context_ids=in_context,
                changed_blocks=changed, system_message_id=system_id, system_text=new_sys, run_id=req.run_id,
                run_update={"usage": state.usage.as_letta()} if req.run_id else None))
        memory.changed_labels.clear()
        snap.message_ids = in_context
        del evicted_msgs

        letta: list[dict[str, Any]] = []
        for msg in new_messages:
            if msg.role == "tool":
                letta.extend(to_letta_messages(msg, use_assistant_message=req.use_assistant_message,
                                               assistant_tool=req.assistant_tool))
            else:
                letta.extend(to_letta_messages(msg, use_assistant_message=req.use_assistant_message,
                                               assistant_tool=req.assistant_tool,
                                               assistant_kwarg=req.assistant_kwarg))
        if req.include_types is not None:
            letta = [m for m in letta if m["message_type"] in req.include_types]
        state.messages.extend(letta)
        if emit is not None:
            for m in letta:
                if req.stream_tokens and m["message_type"] != "tool_return_message":
                    continue  # already streamed token by token
                await emit(m)
        return heartbeat

    async def _one_call(self, snap: AgentSnapshot, solver: ToolRulesSolver, memory: CoreMemory, state: RunState,
                        name: str, args: dict[str, Any] | None, error: str | None, req: TurnRequest
                        ) -> tuple[str, str, list[str] | None, list[str] | None, bool]:
        """Run one tool call under the rules. Returns (status, text, stdout, stderr, continue?)."""
        if error is not None or args is None:
            return "error", error or "invalid arguments", None, None, True
        tool = snap.tool(name)
        if tool is None:
            allowed = ", ".join(sorted(solver.allowed_tools(state.solver))) or "none"
            return "error", f"Tool {name!r} does not exist for this agent. Tools you may call: {allowed}", None, None, True
        violation = solver.check_call(state.solver, name)
        if violation is not None:
            return "error", violation.message, None, None, True
        args, wants_heartbeat = strip_heartbeat(args)
        ctx = ToolContext(agent_id=snap.id, agent_name=snap.name, memory=memory,
                          archival=ArchivalAdapter(self.d.archival, snap.id),
                          recall=RecallAdapter(self.d.messages, snap.id, self.d.services_config.page_size),
                          messenger=self.d.messenger_factory(req.call_depth) if self.d.messenger_factory else None,
                          env={**self.d.server_env, **snap.env}, services=self.d.services_config,
                          call_depth=req.call_depth)
        result = await self.d.dispatcher.call(tool, args, ctx)
        state.solver = solver.record(state.solver, name, result.text)
        decision = solver.decide_after_call(state.solver, name)
        if decision.kind == "end_turn":
            state.stop_reason = decision.stop_reason or "end_turn"
            return result.status, result.text, result.stdout, result.stderr, False
        if decision.kind == "continue":
            text = result.text + (f"\n\n{decision.message}" if decision.message else "")
            return result.status, text, result.stdout, result.stderr, True
        # model decides: continue when it asked for a heartbeat, or when the tool failed (let it recover)
        keep_going = bool(wants_heartbeat) or result.status == "error"
        if not keep_going:
            state.stop_reason = "end_turn"
        return result.status, result.text, result.stdout, result.stderr, keep_going

    # ---- context window --------------------------------------------------------------------------
    async def _fit_window(self, snap: AgentSnapshot, context: list[StoredMessage], sys_text: str,
                          specs: list[llm.ToolSpec]) -> tuple[list[StoredMessage], StoredMessage | None]:
        window = snap.llm.context_window
        tokens = prompt_tokens(snap.llm.model, to_chat(context, sys_text), specs)
        if not needs_eviction(tokens, window):
            return [], None
        fixed = prompt_tokens(snap.llm.model, to_chat([], sys_text), specs)
        evicted, kept = split_for_eviction(context, snap.llm.model, window, fixed)
        if not evicted:
            return [], None
        try:
            resp = await llm.complete(llm.LlmRequest(config=snap.llm, messages=summary_prompt(evicted),
                                                     timeout_s=self.d.llm_timeout_s), self.d.providers)
            summary = (resp.content or "").strip() or fallback_summary(evicted)
        except llm.LlmError as exc:
            logger.warning("summary for agent %s failed (%s); using an extract", snap.id, exc)
            summary = fallback_summary(evicted)
        note = StoredMessage(id=new_id("message"), agent_id=snap.id, role="user",
                             text=summary_message_text(summary, len(evicted), len(evicted)), created_at=utcnow())
        context[:] = [note] + kept
        logger.info("agent %s: %d messages left the context window (%d tokens > %d)", snap.id, len(evicted),
                    tokens, window)
        return evicted, note


def otid_for(message_id: str, index: int) -> str:
    return part_otid(message_id, index)
