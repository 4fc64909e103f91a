"""The ports builtin_tools needs from the host, and the context every tool receives.

The host implements ``ArchivalPort``, ``RecallPort`` and ``AgentMessengerPort`` (over its
database and agent loop) and builds one ``ToolContext`` per tool call. Ports raise only
for outages and bugs; an unknown agent id is ``UnknownAgentError``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol, runtime_checkable

from builtin_tools.memory import CoreMemory

DEFAULT_MAX_CALL_DEPTH = 3


@dataclass(frozen=True, slots=True)
class PassageHit:
    """One archival-memory search hit."""

    text: str
    created_at: datetime | str | None = None
    source: str | None = None
    score: float | None = None


@dataclass(frozen=True, slots=True)
class RecallHit:
    """One conversation-history search hit."""

    role: str
    text: str
    created_at: datetime | str | None = None


@runtime_checkable
class ArchivalPort(Protocol):
    """The agent's archival (passage) memory."""

    async def insert(self, text: str, tags: list[str] | None) -> str:
        """Store a passage; return its id."""
        ...

    async def search(
        self, query: str, page: int, tags: list[str] | None, top_k: int
    ) -> list[PassageHit]:
        """Return up to ``top_k`` hits for page ``page`` (0-based), best first."""
        ...


@runtime_checkable
class RecallPort(Protocol):
    """The agent's conversation history."""

    async def search(
        self,
        query: str,
        page: int,
        roles: list[str] | None,
        start_date: datetime | None,
        end_date: datetime | None,
    ) -> list[RecallHit]:
        """Return one page (0-based) of messages matching ``query``, case-insensitively."""
        ...


@runtime_checkable
class AgentMessengerPort(Protocol):
    """Delivery of messages between agents on this server.

    ``message`` is the text the target agent should see (the tools add Letta's
    "incoming message from agent" framing). ``call_depth`` is the depth the target's
    run will have; the host passes it into that run's ``ToolContext``.
    Unknown target ids raise ``UnknownAgentError``.
    """

    async def send_async(
        self, target_agent_id: str, message: str, sender_agent_id: str, *, call_depth: int
    ) -> str:
        """Queue ``message`` for the target without waiting; return a receipt (e.g. a run id)."""
        ...

    async def send_and_wait(
        self,
        target_agent_id: str,
        message: str,
        sender_agent_id: str,
        timeout_s: float,
        *,
        call_depth: int,
    ) -> str | None:
        """Run the target on ``message``; return its reply, or None if none came in ``timeout_s``."""
        ...

    async def find_agents(self, tags: list[str], match_all: bool) -> list[str]:
        """Ids of agents having all (``match_all``) or any of ``tags``."""
        ...

    async def group_members(self, manager_agent_id: str) -> list[str]:
        """Ids of the members of the supervisor group(s) this agent manages (empty if none)."""
        ...


@dataclass(frozen=True, slots=True)
class ServicesConfig:
    """Endpoints and bounds for the tools' outside services (passed in, never read from env)."""

    tavily_base_url: str | None = None
    e2b_api_url: str | None = None
    e2b_sandbox_url: str | None = None
    e2b_template: str | None = None
    composio_base_url: str | None = None
    http_timeout_s: float = 30.0
    code_timeout_s: float = 60.0
    agent_reply_timeout_s: float = 120.0
    max_call_depth: int = DEFAULT_MAX_CALL_DEPTH
    fanout_limit: int = 8
    page_size: int = 5


@dataclass
class ToolContext:
    """Everything a built-in tool may touch during one call."""

    agent_id: str
    agent_name: str
    memory: CoreMemory
    archival: ArchivalPort
    recall: RecallPort
    messenger: AgentMessengerPort | None = None
    # The agent's tool variables merged with the keys the server passes explicitly
    # (TAVILY_API_KEY, E2B_API_KEY, COMPOSIO_API_KEY, COMPOSIO_ENTITY...).
    env: dict[str, str] = field(default_factory=dict)
    services: ServicesConfig = field(default_factory=ServicesConfig)
    # 0 for a run started by a user; +1 for each agent-to-agent hop.
    call_depth: int = 0
