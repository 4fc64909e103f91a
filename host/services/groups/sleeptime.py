"""Sleep-time agents: ``enable_sleeptime``, and the background run every N-th turn of the main agent.

The runner tells ``SleeptimeWatch.observe`` about every finished turn (``host.agent.ports.TurnObserver``).
It schedules ``after_turn`` in the runner's task group and returns: nothing is done on the request path.
Only the turns of an agent that managed a sleep-time group as the turn began are counted (the turn's load
reads that with the agent: ``TurnResult.sleeptime_main``); ``after_turn`` then reads from the database which
sleep-time groups the agent is the main agent of, and for each (one at a time per group, the group row locked) counts the
turn; on every ``sleeptime_agent_frequency``-th it takes the main agent's messages since the last
processed one as a transcript and starts, for each sleep-time agent, an ordinary run (visible in /v1/runs,
cancellable; its agent lock keeps two runs of one sleep-time agent from interleaving). Its memory edits are
written to the shared blocks, which the main agent's next turn reads.

Nothing about groups is kept in memory between turns: a group made, changed or deleted by another server
process on the same Postgres counts from the next turn, as it does after a restart.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

import anyio
from sqlalchemy import select

from host.agent.runner import Runner, turn_request
from host.agent.store import SLEEPTIME_TYPES
from host.agent.turn import TurnResult
from host.domain.messages import to_letta_messages
from host.persistence.convert import message_out
from host.persistence.models import AgentRow, GroupAgentRow, GroupRow, MessageRow
from host.schemas.messages import LettaRequest, MessageCreate

logger = logging.getLogger(__name__)

SLEEPTIME_TOOLS = ["memory_replace", "memory_insert", "memory_rethink", "memory_finish_edits"]
MAIN_AGENT_TOOLS = ["send_message", "conversation_search", "archival_memory_search"]
SLEEPTIME_PERSONA = ("I am a sleep-time memory agent. I read the conversations of the agent I support and keep "
                     "its memory blocks accurate and well organised, then call memory_finish_edits.")
TRANSCRIPT_LIMIT = 200  # messages per background run
VOICE_MAX_BUFFER, VOICE_MIN_BUFFER = 30, 15  # voice_sleeptime defaults (Letta's)


def transcript(main_name: str, messages: list[dict[str, Any]]) -> str:
    lines = []
    for m in messages:
        kind = m.get("message_type")
        if kind == "user_message":
            lines.append(f"user: {m.get('content')}")
        elif kind == "assistant_message":
            lines.append(f"{main_name}: {m.get('content')}")
    body = "\n".join(lines) or "(no new messages)"
    return (f"[Conversation of {main_name} since you last ran]\n{body}\n"
            "Update the shared memory blocks with what is worth remembering, then call memory_finish_edits.")


@dataclass
class _Pending:
    """An agent's finished turns waiting to be counted, one at a time."""

    lock: anyio.Lock = field(default_factory=anyio.Lock)
    count: int = 0


class SleeptimeWatch:
    def __init__(self, db: Any, runner: Runner) -> None:
        self.db = db
        self.runner = runner
        self._pending: dict[str, _Pending] = {}  # agents with finished turns not yet counted

    def observe(self, agent_id: str, result: TurnResult) -> None:
        if not result.sleeptime_main or result.stop_reason in ("cancelled", "error") or not self.runner.accepting:
            return
        last = next((m.id for m in reversed(result.messages) if m.id), None)
        pending = self._pending.setdefault(agent_id, _Pending())
        pending.count += 1
        self.runner.start_soon(lambda: self._guarded(agent_id, last, pending))

    async def _guarded(self, agent_id: str, last: str | None, pending: _Pending) -> None:
        try:
            async with pending.lock:  # FIFO: an agent's turns are counted in the order they finished
                await self.after_turn(agent_id, last)
        except Exception:
            logger.exception("agent %s: scheduling its sleep-time agents failed", agent_id)
        finally:
            pending.count -= 1
            if not pending.count:
                self._pending.pop(agent_id, None)

    async def after_turn(self, agent_id: str, last: str | None = None) -> list[str]:
        """A turn of ``agent_id`` (whose last message is ``last``) finished: count it in each sleep-time group
        the agent is the main agent of, read from the database now (a group made by another process, or
        before a restart, counts). Returns the ids of the sleep-time runs started."""
        async with self.db.session() as s:
            group_ids = list((await s.execute(select(GroupRow.id).where(
                GroupRow.manager_agent_id == agent_id, GroupRow.manager_type.in_(SLEEPTIME_TYPES)))).scalars())
        run_ids: list[str] = []
        for group_id in group_ids:
            run_ids.extend(await self._count(group_id, last))
        return run_ids

    async def _count(self, group_id: str, last: str | None) -> list[str]:
        """Count a main-agent turn; on every N-th, start the sleep-time runs on the messages since the last
        run, up to this turn's last (later turns are the next run's, however late this count runs). The
        group row is locked while counting (Postgres: another process counting it waits)."""
        async with self.db.transaction() as s:
            group = await s.get(GroupRow, group_id, with_for_update=True)
            if group is None or group.manager_agent_id is None:
                return []
            group.turns_counter = (group.turns_counter or 0) + 1
            main = await s.get(AgentRow, group.manager_agent_id)
            if group.manager_type == "voice_sleeptime":
                if main is None or len(main.message_ids) <= (group.max_message_buffer_length or VOICE_MAX_BUFFER):
                    return []
            elif group.turns_counter % (group.sleeptime_agent_frequency or 1) != 0:
                return []
            stmt = select(MessageRow).where(MessageRow.agent_id == group.manager_agent_id)
            if group.last_processed_message_id:
                seq = (await s.execute(select(MessageRow.seq).where(
                    MessageRow.id == group.last_processed_message_id))).scalar_one_or_none()
                if seq is not None:
                    stmt = stmt.where(MessageRow.seq > seq)
            if last is not None:
                seq = (await s.execute(select(MessageRow.seq).where(MessageRow.id == last))).scalar_one_or_none()
                if seq is not None:
                    stmt = stmt.where(MessageRow.seq <= seq)
            rows = list((await s.execute(stmt.order_by(MessageRow.seq.desc()).limit(TRANSCRIPT_LIMIT))).scalars())[::-1]
            if not rows:
                return []
            group.last_processed_message_id = rows[-1].id
            members = list((await s.execute(select(GroupAgentRow.agent_id).where(
                GroupAgentRow.group_id == group_id).order_by(GroupAgentRow.position))).scalars())
            letta = [lm for r in rows for lm in to_letta_messages(message_out(r))]
            text = transcript(main.name if main else "the main agent", letta)
        if group.manager_type == "voice_sleeptime":
            await self._trim(group.manager_agent_id, group.min_message_buffer_length or VOICE_MIN_BUFFER)
        run_ids = []
        for agent_id in members:
            run_ids.append(await self._start(group_id, agent_id, text))
        return run_ids

    async def _trim(self, agent_id: str, keep: int) -> None:
        """voice_sleeptime: the voice agent keeps its system message and the last ``keep`` messages in
        context; what leaves it was just handed to the sleep-time agent. Under the agent's turn lock."""
        from host.ids import utcnow

        async with self.runner.loop.d.locks.hold(agent_id):
            async with self.db.transaction() as s:
                agent = await s.get(AgentRow, agent_id)
                if agent is not None and len(agent.message_ids) > keep + 1:
                    kept = agent.message_ids[-keep:]
                    roles = dict((await s.execute(select(MessageRow.id, MessageRow.role).where(
                        MessageRow.id.in_(kept)))).all())
                    while kept and roles.get(kept[0]) == "tool":  # never a tool result without its call
                        kept = kept[1:]
                    agent.message_ids = agent.message_ids[:1] + kept
                    agent.updated_at = utcnow()  # cached histories are read afresh

    async def _start(self, group_id: str, agent_id: str, text: str) -> str:
        """An ordinary background run of the sleep-time agent (the runs table is its record)."""
        body = LettaRequest(messages=[MessageCreate(role="user", content=text)])
        run_id = await self.runner.runs.create(agent_id, {"group_id": group_id, "sleeptime": True,
                                                          "use_assistant_message": True})

        async def run() -> None:
            try:
                await self.runner.execute(turn_request(agent_id, body, run_id))
            except Exception:
                logger.exception("sleep-time run %s of agent %s failed", run_id, agent_id)

        self.runner.start_soon(run)
        logger.info("sleeptime group %s: started run %s of agent %s", group_id, run_id, agent_id)
        return run_id
