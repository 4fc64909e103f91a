"""Operations on an agent beside its turns, over the loop's own code paths:

    preview   the model request the agent's next step would send for a message (``step_request``, as a
              step builds it), without sending it
    summarize compact the in-context history to a model-written summary and the newest messages (the
              summary of context eviction: ``host.agent.context.summary_note``)
    complete  one model call on a model config, outside any turn (no history, no tools run, nothing
              written), with the organization's own provider key when the config is one of its models
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

from host import llm
from host.agent.context import split_keeping, summary_stored, write_summary
from host.agent.loop import AgentLoop
from host.agent.step_write import StepWrite, write_step
from host.agent.store import load_turn, system_text
from host.agent.turn import Timings, TurnRequest
from host.agent.turn_state import new_turn, offered, step_request
from host.errors import UpstreamError
from host.llm.providers import LLMConfig, ProviderSettings
from host.persistence.byok import ByokMissingError, settings_for_llm
from host.persistence.secret_box import SecretBoxError

logger = logging.getLogger(__name__)


async def preview(loop: AgentLoop, req: TurnRequest) -> dict[str, Any]:
    """The provider request of the first step of ``req``: the agent as stored, the new messages appended.

    When that prompt would pass the context window, the real step first evicts old messages into a
    model-written summary; the preview shows the request before that eviction (it calls no model)."""
    loaded = await load_turn(loop.d.db, req.agent_id)
    t = new_turn(req, loaded, None, Timings(), None)
    pending = [loop.input_message(req, i) for i in req.messages]
    t.context.extend(pending)
    sys_text = system_text(replace(t.snap, blocks=t.memory.blocks), t.recall + len(pending), t.archival)
    specs, tool_choice = offered(t)
    return llm.provider_payload(step_request(t, sys_text, specs, tool_choice, loop.d.llm_timeout_s),
                                loop.d.providers)


@dataclass(frozen=True)
class Compaction:
    """What ``summarize`` did: in-context message counts (system message included) before and after, and the
    summary written (None: nothing to compact)."""

    before: int
    after: int
    summary: str | None


async def summarize(loop: AgentLoop, agent_id: str, keep: int, min_evicted: int = 1) -> Compaction:
    """Replace all but the newest ``keep`` in-context messages (cut at a user message, so a tool call never
    loses its return) with one summary message, under the agent's lock. Fewer than ``min_evicted`` to
    compact (2: only a compaction that shortens the context): no model call, nothing written."""
    async with loop.d.locks.hold(agent_id):
        loaded = await load_turn(loop.d.db, agent_id)
        history = loaded.history
        system = history[0] if history and history[0].role == "system" else None
        context = [m for m in history if m.role != "system"]
        evicted, kept = split_keeping(context, keep)
        if not evicted or len(evicted) < min_evicted:
            return Compaction(before=len(history), after=len(history), summary=None)
        providers = await _providers(loop, loaded.snap.llm)
        summary = await write_summary(loaded.snap, evicted, providers, loop.d.llm_timeout_s)
        note = summary_stored(agent_id, summary, len(evicted))
        ids = ([system.id] if system else []) + [note.id] + [m.id for m in kept]
        await write_step(loop.d.db, StepWrite(agent_id=agent_id, step=None, messages=[note], in_context_ids=ids,
                                              changed_blocks=[], system_message_id=None, system_text=None))
        loop.d.history.drop(agent_id)
        logger.info("agent %s: summarized %d messages, kept %d", agent_id, len(evicted), len(kept))
        return Compaction(before=len(history), after=len(ids), summary=summary)


async def _providers(loop: AgentLoop, config: LLMConfig) -> ProviderSettings:
    try:
        return await settings_for_llm(loop.d.db, loop.d.secrets, config, loop.d.providers)
    except (ByokMissingError, SecretBoxError) as exc:
        raise UpstreamError(f"The model call failed ({config.handle or config.model}): {exc}") from None


async def complete(loop: AgentLoop, config: LLMConfig, messages: Sequence[llm.ChatMessage],
                   tools: Sequence[llm.ToolSpec] = (), tool_choice: llm.ToolChoice = None) -> llm.LlmResponse:
    """One model call outside any turn; a provider failure is an ``UpstreamError`` (502) naming the model."""
    request = llm.LlmRequest(config=config, messages=messages, tools=tools, tool_choice=tool_choice,
                             timeout_s=loop.d.llm_timeout_s)
    try:
        return await llm.complete(request, await _providers(loop, config))
    except llm.LlmError as exc:
        raise UpstreamError(f"The model call failed ({config.handle or config.model}): {exc}") from None
