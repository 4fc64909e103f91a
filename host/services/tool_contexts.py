"""The host's side of the tool ports: archival and recall memory as ``builtin_tools`` declares them, and
the one ``ToolContext`` factory that the loop and the MCP server's tool catalogue both use (injected into
``host.tools.calls.ToolCaller`` at wiring time), with the configured services and recall page size.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from builtin_tools import AgentMessengerPort, CoreMemory, PassageHit, RecallHit, ServicesConfig, ToolContext
from host.services.archival import ArchivalService
from host.services.messages import MessageService
from host.tools.calls import ToolScope

NO_AGENT = ""  # the agent id of an unscoped call (the MCP catalogue without an agent)


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


class NoArchival:
    """Archival memory of a call made for no agent: there is none (built-in tools are not offered then)."""

    async def insert(self, text: str, tags: list[str] | None) -> str:
        raise LookupError("this call runs for no agent: there is no archival memory to insert into")

    async def search(self, query: str, page: int, tags: list[str] | None, top_k: int) -> list[PassageHit]:
        return []


class NoRecall:
    """Recall memory of a call made for no agent: empty."""

    async def search(self, query: str, page: int, roles: list[str] | None, start_date: datetime | None,
                     end_date: datetime | None) -> list[RecallHit]:
        return []


@dataclass
class ToolContexts:
    """Implements ``host.tools.calls.ToolContextFactory``."""

    archival: ArchivalService
    messages: MessageService
    services_config: ServicesConfig = field(default_factory=ServicesConfig)
    server_env: dict[str, str] = field(default_factory=dict)  # keys for built-in tools, never sandboxed code

    def for_agent(self, scope: ToolScope, memory: CoreMemory, *, call_depth: int = 0,
                  messenger: AgentMessengerPort | None = None) -> ToolContext:
        return ToolContext(agent_id=scope.agent_id, agent_name=scope.agent_name, memory=memory,
                           archival=ArchivalAdapter(self.archival, scope.agent_id),
                           recall=RecallAdapter(self.messages, scope.agent_id, self.services_config.page_size),
                           messenger=messenger, env={**self.server_env, **scope.env}, services=self.services_config,
                           call_depth=call_depth)

    def unscoped(self) -> ToolContext:
        return ToolContext(agent_id=NO_AGENT, agent_name="", memory=CoreMemory.of([]), archival=NoArchival(),
                           recall=NoRecall(), env=dict(self.server_env), services=self.services_config)


__all__ = ["ArchivalAdapter", "NoArchival", "NoRecall", "RecallAdapter", "ToolContexts"]
