"""Typed carriers shared by every sandbox backend."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Literal, Protocol, Self, runtime_checkable


@dataclass(frozen=True)
class BlockSnapshot:
    label: str
    value: str
    limit: int | None = None
    description: str | None = None
    read_only: bool = False


@dataclass(frozen=True)
class AgentStateSnapshot:
    """What tool code sees as ``agent_state`` (and what comes back after edits)."""

    id: str
    name: str = ""
    blocks: list[BlockSnapshot] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> AgentStateSnapshot:
        blocks = [
            BlockSnapshot(
                label=str(b["label"]),
                value=str(b.get("value", "")),
                limit=b.get("limit"),
                description=b.get("description"),
                read_only=bool(b.get("read_only", False)),
            )
            for b in data.get("blocks", [])
        ]
        return cls(id=str(data["id"]), name=str(data.get("name", "")), blocks=blocks)

    def block(self, label: str) -> BlockSnapshot | None:
        return next((b for b in self.blocks if b.label == label), None)


@dataclass(frozen=True)
class SandboxRequest:
    """One tool call.

    ``function_name`` empty means: the last top-level ``def`` of ``source_code``.
    ``env`` holds variables given explicitly for this call (the agent's
    ``tool_exec_environment_variables``); ``timeout_s`` None means the backend default.
    ``reuse_key`` (usually the agent id) lets the E2B backend reuse a sandbox.
    """

    source_code: str
    function_name: str = ""
    args: dict[str, Any] = field(default_factory=dict)
    env: dict[str, str] = field(default_factory=dict)
    pip_requirements: list[str] = field(default_factory=list)
    timeout_s: float | None = None
    agent_state: AgentStateSnapshot | None = None
    reuse_key: str | None = None


@dataclass(frozen=True)
class SandboxResult:
    """The outcome of one tool call; failures of the tool are data here, never exceptions.

    ``stdout``/``stderr`` are lists of text chunks (Letta's shape: in practice one
    chunk holding everything, bounded, with a ``[truncated N bytes]`` note).
    ``agent_state`` is set only when the tool took an ``agent_state`` parameter
    and finished successfully: the host saves its blocks.
    """

    status: Literal["success", "error"]
    func_return: Any = None
    stdout: list[str] = field(default_factory=list)
    stderr: list[str] = field(default_factory=list)
    error: str | None = None
    agent_state: AgentStateSnapshot | None = None
    duration_ms: float = 0.0


@runtime_checkable
class Sandbox(Protocol):
    """One interface, several backends: ``async with backend: await backend.run(req)``."""

    async def __aenter__(self) -> Self: ...

    async def __aexit__(self, *exc_info: object) -> None: ...

    async def run(self, request: SandboxRequest) -> SandboxResult: ...
