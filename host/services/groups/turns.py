"""One message to a group: the members' turns, each an ordinary run through the runner (one agent loop).

    round_robin   members speak in order, ``max_turns`` turns (default: one each)
    dynamic       before each turn the manager is asked who speaks next (``speaker_prompt``)
    supervisor    the manager answers, with a tool that messages every member and collects the replies
    sleeptime     the main agent (manager) answers; host/services/groups/sleeptime.py runs the rest later

Each member sees the user's messages and, as system messages naming the speaker, what the others said
since its own last turn. A member turn takes only that member's lock (in the loop), one turn at a time,
so a group turn never holds two locks at once and cannot deadlock against another group.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field
from typing import Any

import anyio
from sqlalchemy import select

from host.agent.runner import Runner, turn_request
from host.agent.turn import TurnResult, Usage
from host.domain.events import Emit
from host.domain.letta import AssistantMessage, LettaMessage, StopReason
from host.persistence.models import AgentRow
from host.schemas.messages import InputMessage, LettaRequest, MessageCreate
from host.services.groups.store import GroupStore

logger = logging.getLogger(__name__)


def assistant_text(result: TurnResult) -> str:
    return "\n".join(m.content for m in result.messages if isinstance(m, AssistantMessage) and m.content)


def speaker_prompt(eligible: list[str], news: list[str], token: str) -> str:
    """What the dynamic manager is asked before each turn (starts with the eligible speakers by name)."""
    head = f"Eligible speakers: {', '.join(eligible)}."
    body = ("\n" + "\n".join(news)) if news else ""
    return (f"{head}{body}\nWho should speak next? Answer with exactly one of the names above, or with "
            f"{token} if the conversation is finished.")


def choose(reply: str, eligible: list[str]) -> str | None:
    """The eligible name the manager's reply names (whole word, case-insensitive; the longest wins)."""
    for name in sorted(eligible, key=len, reverse=True):
        if re.search(rf"(?<![\w-]){re.escape(name)}(?![\w-])", reply, re.IGNORECASE):
            return name
    return None


@dataclass(frozen=True)
class Out:
    """Where a speaking member's messages go as they are made (``emit``), and whether token by token."""

    emit: Emit | None = None
    stream_tokens: bool = False


QUIET = Out()  # a request answered when the round is over


@dataclass
class GroupReply:
    messages: list[LettaMessage] = field(default_factory=list)
    usage: Usage = field(default_factory=Usage)
    stop_reason: str = "end_turn"
    run_ids: list[str] = field(default_factory=list)

    def add(self, result: TurnResult, *, keep: bool = True) -> None:
        if keep:
            self.messages.extend(result.messages)
        for k in ("completion_tokens", "prompt_tokens", "total_tokens", "step_count"):
            setattr(self.usage, k, getattr(self.usage, k) + getattr(result.usage, k))
        self.stop_reason = result.stop_reason
        if result.run_id:
            self.run_ids.append(result.run_id)

    def as_letta(self) -> dict[str, Any]:
        return {"messages": [m.to_json() for m in self.messages],
                "stop_reason": StopReason(self.stop_reason).to_json(),
                "usage": self.usage.as_letta(self.run_ids)}


class GroupTurns:
    def __init__(self, store: GroupStore, runner: Runner) -> None:
        self.store = store
        self.runner = runner

    async def _names(self, agent_ids: list[str]) -> dict[str, str]:
        async with self.store.db.session() as s:
            rows = (await s.execute(select(AgentRow.id, AgentRow.name).where(AgentRow.id.in_(agent_ids)))).all()
        return {i: n for i, n in rows}

    async def _turn(self, group_id: str, agent_id: str, messages: list[InputMessage], body: LettaRequest,
                    out: Out = QUIET) -> TurnResult:
        """One member's turn as an ordinary run; with ``out.emit``, its messages (with ``stream_tokens``,
        its token deltas) go out as the member's model produces them."""
        req = body.model_copy(update={"messages": messages})
        tokens = out.stream_tokens and out.emit is not None
        run_id = await self.runner.runs.create(agent_id, {"group_id": group_id, "stream_tokens": tokens,
                                                          "use_assistant_message": body.use_assistant_message})
        try:
            return await self.runner.execute(turn_request(agent_id, req, run_id, stream_tokens=tokens),
                                             out.emit)
        finally:
            with anyio.CancelScope(shield=True):  # a cancelled turn's messages are the group's too
                await self.store.tag_run(group_id, run_id)

    async def send(self, group_id: str, body: LettaRequest, out: Out = QUIET) -> GroupReply:
        """The group's answer to ``body``. With ``out.emit`` (a streamed request, ``host.services.groups.stream``)
        each speaking member's messages are handed out as they are made; the dynamic manager's choice of
        speaker is not (it is not in the reply either)."""
        row, members = await self.store.members(group_id)
        # The input limits, for every agent the input may reach, before any member's run is written.
        for agent_id in dict.fromkeys(([row.manager_agent_id] if row.manager_agent_id else []) + members):
            await self.runner.admit(turn_request(agent_id, body, None))
        if row.manager_type in ("supervisor", "sleeptime", "voice_sleeptime"):
            reply = GroupReply()
            reply.add(await self._turn(group_id, row.manager_agent_id or "", list(body.messages), body, out))
            return reply
        names = await self._names(members + ([row.manager_agent_id] if row.manager_agent_id else []))
        if row.manager_type == "dynamic":
            return await self._dynamic(group_id, row.manager_agent_id or "", row.termination_token or "DONE!",
                                       row.max_turns or len(members), members, names, body, out)
        return await self._round_robin(group_id, row.max_turns or len(members), members, names, body, out)

    async def _round_robin(self, group_id: str, max_turns: int, members: list[str], names: dict[str, str],
                           body: LettaRequest, out: Out) -> GroupReply:
        pending = {m: list(body.messages) for m in members}
        reply = GroupReply()
        for turn in range(max_turns):
            speaker = members[turn % len(members)]
            result = await self._turn(group_id, speaker, pending[speaker] or [_nudge()], body, out)
            pending[speaker] = []
            reply.add(result)
            self._share(speaker, names, assistant_text(result), pending)
            if result.stop_reason in ("cancelled", "error"):
                break
        return reply

    async def _dynamic(self, group_id: str, manager: str, token: str, max_turns: int, members: list[str],
                       names: dict[str, str], body: LettaRequest, out: Out) -> GroupReply:
        pending = {m: list(body.messages) for m in members}
        news = [f"{m.role}: {m.text()}" for m in body.messages if isinstance(m, MessageCreate)]
        by_name = {names[m]: m for m in members}
        reply, last = GroupReply(), None
        for turn in range(max_turns):
            eligible = [names[m] for m in members if m != last] or [names[m] for m in members]
            asked = await self._turn(group_id, manager, [MessageCreate(role="user", content=speaker_prompt(
                eligible, news, token))], body)
            reply.add(asked, keep=False)
            answer = assistant_text(asked)
            if token in answer:
                break
            picked = choose(answer, eligible)
            if picked is None:  # an answer naming no one: the next eligible member in order speaks
                logger.info("group %s: the manager named no eligible speaker (%r); going in order", group_id, answer)
                picked = eligible[turn % len(eligible)]
            speaker = by_name[picked]
            result = await self._turn(group_id, speaker, pending[speaker] or [_nudge()], body, out)
            pending[speaker], last = [], speaker
            reply.add(result)
            said = assistant_text(result)
            self._share(speaker, names, said, pending)
            news = [f"{names[speaker]}: {said}"] if said else []
            if result.stop_reason in ("cancelled", "error"):
                break
        return reply

    @staticmethod
    def _share(speaker: str, names: dict[str, str], said: str, pending: dict[str, list[InputMessage]]) -> None:
        if not said:
            return
        for other in pending:
            if other != speaker:
                pending[other].append(MessageCreate(role="system", content=f"{names[speaker]}: {said}",
                                                    name=names[speaker][:256]))


def _nudge() -> MessageCreate:
    return MessageCreate(role="system", content="It is your turn to speak in the group.")
