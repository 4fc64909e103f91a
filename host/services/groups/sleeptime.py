"""Sleep-time agents: ``enable_sleeptime``, and the background run every N-th turn of the main agent.

The runner tells ``SleeptimeWatch.observe`` about every finished turn (``host.agent.ports.TurnObserver``).
For a main agent of a sleeptime group it schedules ``_after_turn`` in the runner's task group and returns:
nothing is done on the request path but one dict lookup. ``_after_turn`` (one at a time per group)
counts the turn; on every ``sleeptime_agent_frequency``-th it takes the main agent's messages since the last
processed one as a transcript and starts, for each sleep-time agent, an ordinary run (visible in /v1/runs,
cancellable; its agent lock keeps two runs of one sleep-time agent from interleaving). Its memory edits are
written to the shared blocks, which the main agent's next turn reads.

Which agents are main agents is kept in memory (loaded at start-up, updated by this server's group changes):
groups changed by another server process on the same Postgres are seen after a restart.
"""

from __future__ import annotations

import logging
from typing import Any

import anyio
from sqlalchemy import select

from host.agent.runner import Runner, turn_request
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


class SleeptimeWatch:
    def __init__(self, db: Any, runner: Runner) -> None:
        self.db = db
        self.runner = runner
        self.main: dict[str, str] = {}  # main agent id -> its sleeptime group id
        self._locks: dict[str, anyio.Lock] = {}

    async def load(self) -> None:
        async with self.db.session() as s:
            rows = (await s.execute(select(GroupRow.manager_agent_id, GroupRow.id).where(
                GroupRow.manager_type.in_(("sleeptime", "voice_sleeptime"))))).all()
        self.main = {a: g for a, g in rows if a}

    def observe(self, agent_id: str, result: TurnResult) -> None:
        group_id = self.main.get(agent_id)
        if group_id is None or result.stop_reason in ("cancelled", "error") or not self.runner.accepting:
            return
        self.runner.start_soon(lambda: self._guarded(group_id))

    async def _guarded(self, group_id: str) -> None:
        try:
            await self.after_turn(group_id)
        except Exception:
            logger.exception("sleeptime group %s: scheduling the sleep-time agent failed", group_id)

    async def after_turn(self, group_id: str) -> list[str]:
        """Count a main-agent turn; on every N-th, start the sleep-time runs. Returns their run ids."""
        lock = self._locks.setdefault(group_id, anyio.Lock())
        async with lock:
            async with self.db.transaction() as s:
                group = await s.get(GroupRow, group_id)
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
