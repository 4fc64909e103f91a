"""Which files of an agent's folders are open in its view (1.x ``/v1/agents/{id}/files``).

A file with no ``files_agents`` row is closed. Opening a file records when; an open file shows its
text (the ingested passages in order, numbered by line) as ``visible_content``.
"""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import select

from host.errors import NotFoundError
from host.ids import utcnow
from host.persistence.models import AgentRow, AgentSourceRow, FileAgentRow, FileRow, PassageRow, SourceRow

_NAMESPACE = uuid.UUID("0b7e4a7c-3f0e-4d4f-8a31-1c6a2f9d5e44")


def view_id(agent_id: str, file_id: str) -> str:
    return f"file_agent-{uuid.uuid5(_NAMESPACE, agent_id + '/' + file_id)}"


class FileViewService:
    def __init__(self, db: Any) -> None:
        self.db = db

    async def list(self, agent_id: str) -> list[dict[str, Any]]:
        async with self.db.session() as s:
            if await s.get(AgentRow, agent_id) is None:
                raise NotFoundError.for_id("Agent", agent_id)
            rows = (await s.execute(
                select(FileRow, SourceRow.name)
                .join(SourceRow, SourceRow.id == FileRow.source_id)
                .join(AgentSourceRow, AgentSourceRow.source_id == FileRow.source_id)
                .where(AgentSourceRow.agent_id == agent_id))).all()
            states = {r.file_id: r for r in (await s.execute(
                select(FileAgentRow).where(FileAgentRow.agent_id == agent_id))).scalars()}
            out = []
            for file, folder_name in rows:
                state = states.get(file.id)
                is_open = bool(state and state.is_open)
                out.append({
                    "id": view_id(agent_id, file.id), "file_id": file.id,
                    "file_name": f"{folder_name}/{file.file_name}", "folder_id": file.source_id,
                    "folder_name": folder_name, "is_open": is_open,
                    "last_accessed_at": state.last_accessed_at.isoformat() if state and state.last_accessed_at
                    else None,
                    "visible_content": await self._content(s, file.id) if is_open else None,
                    "start_line": None, "end_line": None, "created_at": file.created_at,
                })
            return out

    @staticmethod
    async def _content(s: Any, file_id: str) -> str:
        texts = (await s.execute(select(PassageRow.text).where(PassageRow.file_id == file_id)
                                 .order_by(PassageRow.seq))).scalars()
        lines = "\n".join(texts).splitlines()
        numbered = "\n".join(f"{i}: {line}" for i, line in enumerate(lines, 1))
        return f"[Viewing file start (out of {len(lines)} lines)]\n{numbered}"

    async def set_open(self, agent_id: str, file_id: str, is_open: bool) -> list[str]:
        """Open or close one file; the names of files this closed to make room (none: no limit here)."""
        async with self.db.transaction() as s:
            attached = (await s.execute(
                select(FileRow.id).join(AgentSourceRow, AgentSourceRow.source_id == FileRow.source_id)
                .where(AgentSourceRow.agent_id == agent_id, FileRow.id == file_id))).scalar_one_or_none()
            if attached is None:
                if await s.get(AgentRow, agent_id) is None:
                    raise NotFoundError.for_id("Agent", agent_id)
                raise NotFoundError(f"File with ID {file_id} is not in a folder attached to agent {agent_id}")
            row = await s.get(FileAgentRow, (agent_id, file_id))
            if row is None:
                row = FileAgentRow(agent_id=agent_id, file_id=file_id, id=view_id(agent_id, file_id), is_open=False)
                s.add(row)
            row.is_open = is_open
            if is_open:
                row.last_accessed_at = utcnow()
        return []

    async def close_all(self, agent_id: str) -> list[str]:
        async with self.db.transaction() as s:
            if await s.get(AgentRow, agent_id) is None:
                raise NotFoundError.for_id("Agent", agent_id)
            closed = []
            for row in (await s.execute(select(FileAgentRow).where(FileAgentRow.agent_id == agent_id,
                                                                   FileAgentRow.is_open.is_(True)))).scalars():
                row.is_open = False
                closed.append(row.file_id)
            return closed
