"""What the loop and the runner need from the floors above them, as small Protocols injected at wiring
time (``host.wiring``). The services implement them; tests may pass in-memory implementations.

    RunLedger      the runs table: create, finish, look up, cancel
    AgentExists    a 404 (``NotFoundError``) for an unknown agent id
    TurnObserver   told (synchronously, must not block) of each finished turn: agent id and result

The tool-context factory the loop needs is ``host.tools.calls.ToolContextFactory``.
"""

from __future__ import annotations

from typing import Any, Awaitable, Callable, Protocol


class RunLedger(Protocol):
    async def create(self, agent_id: str, request_config: dict[str, Any], *, status: str = "running") -> str: ...

    async def finish(self, run_id: str, status: str, stop_reason: str | None, usage: dict[str, Any] | None = None,
                     error: str | None = None) -> None: ...

    async def get(self, run_id: str) -> dict[str, Any]: ...

    async def active_ids(self, agent_id: str) -> list[str]: ...

    async def cancel(self, run_ids: list[str]) -> None: ...


AgentExists = Callable[[str], Awaitable[Any]]
TurnObserver = Callable[[str, Any], None]

__all__ = ["AgentExists", "RunLedger", "TurnObserver"]
