"""What the loop and the runner need from the floors above them, as small Protocols injected at wiring
time (``host.wiring``). The services implement them; tests may pass in-memory implementations.

    RunLedger      the runs table: create, finish, look up, cancel; the lease this process's turns carry
    AgentExists    a 404 (``NotFoundError``) for an unknown agent id
    TurnObserver   told (synchronously, must not block) of each finished turn: agent id and result
    LoopTelemetry  what the loop reports: each model call (its request and response: provider traces) and
                   latencies of model calls, tool calls and turns (Prometheus, OpenTelemetry)

The tool-context factory the loop needs is ``host.tools.calls.ToolContextFactory``.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from contextlib import AbstractContextManager, nullcontext
from typing import Any, Protocol

from host.agent.turn import RunLease


class RunLedger(Protocol):
    @property
    def lease(self) -> RunLease: ...

    async def create(self, agent_id: str, request_config: dict[str, Any], *, status: str = "running",
                     payload: dict[str, Any] | None = None) -> str: ...

    async def finish(self, run_id: str, status: str, stop_reason: str | None, usage: dict[str, Any] | None = None,
                     error: str | None = None) -> None: ...

    async def get(self, run_id: str) -> dict[str, Any]: ...

    async def active_ids(self, agent_id: str) -> list[str]: ...

    async def cancel(self, run_ids: list[str]) -> None: ...


AgentExists = Callable[[str], Awaitable[Any]]
TurnObserver = Callable[[str, Any], None]


class LoopTelemetry(Protocol):
    """Called on the hot path: implementations only note the call (no I/O, no serialization)."""

    def model_call(self, step_id: str, agent_id: str, request: Any, response: Any, seconds: float) -> None: ...

    def model_failed(self, model: str, seconds: float) -> None: ...

    def tool_call(self, name: str, status: str, seconds: float) -> None: ...

    def turn(self, seconds: float, stop_reason: str) -> None: ...

    def span(self, name: str, attributes: Mapping[str, Any] | None = None) -> AbstractContextManager[Any]:
        """A tracing span around a turn, a step, a model call or a tool call (a no-op when tracing is off)."""
        ...


_NOTHING = nullcontext()


class NoTelemetry:
    """A LoopTelemetry that keeps nothing (tests and tools that build a loop of their own)."""

    def model_call(self, step_id: str, agent_id: str, request: Any, response: Any, seconds: float) -> None:
        return None

    def model_failed(self, model: str, seconds: float) -> None:
        return None

    def tool_call(self, name: str, status: str, seconds: float) -> None:
        return None

    def turn(self, seconds: float, stop_reason: str) -> None:
        return None

    def span(self, name: str, attributes: Mapping[str, Any] | None = None) -> AbstractContextManager[Any]:
        return _NOTHING


__all__ = ["AgentExists", "LoopTelemetry", "NoTelemetry", "RunLedger", "TurnObserver"]
