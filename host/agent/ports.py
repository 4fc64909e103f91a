"""The host's implementations of the ports that builtin_tools declares (archival and recall memory)."""

from __future__ import annotations

from datetime import datetime

from builtin_tools import PassageHit, RecallHit

from host.services.archival import ArchivalService
from host.services.messages import MessageService


class ArchivalAdapter:
    def __init__(self, archival: ArchivalService, agent_id: str) -> None:
        self.archival = archival
        self.agent_id = agent_id

    async def insert(self, text: str, tags: list[str] | None) -> str:
        return (await self.archival.insert(self.agent_id, text, tags))[0].id

    async def search(self, query: str, page: int, tags: list[str] | None, top_k: int) -> list[PassageHit]:
        hits = await self.archival.search(self.agent_id, query, top_k=top_k, tags=tags, offset=page * top_k)
        return [PassageHit(text=h.passage.text, created_at=h.passage.created_at,
                           source=h.passage.file_name or h.passage.source_id, score=h.score) for h in hits]


class RecallAdapter:
    def __init__(self, messages: MessageService, agent_id: str, page_size: int = 5) -> None:
        self.messages = messages
        self.agent_id = agent_id
        self.page_size = page_size

    async def search(self, query: str, page: int, roles: list[str] | None, start_date: datetime | None,
                     end_date: datetime | None) -> list[RecallHit]:
        found = await self.messages.search(self.agent_id, query, page=page, page_size=self.page_size, roles=roles,
                                           start=start_date, end=end_date)
        hits = []
        for m in found:
            text = m.text or ""
            if m.role == "assistant" and m.tool_calls:
                text = " ".join(filter(None, [text] + [c.arguments for c in m.tool_calls]))
            hits.append(RecallHit(role=m.role, text=text, created_at=m.created_at))
        return hits
