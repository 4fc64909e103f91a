"""Typed carriers of one agent turn: the request, the agent snapshot, the run state and the result."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

from builtin_tools import MemoryBlock
from host.domain.events import Emit  # noqa: F401  (re-exported for the loop)
from host.domain.letta import LettaMessage, StopReason, UsageStatistics
from host.llm.providers import LLMConfig
from host.tools.dispatcher import ToolInfo
from host.tools.rule_models import ToolRule
from host.tools.rules import SolverState

DEFAULT_MAX_STEPS = 50



@dataclass(frozen=True)
class InputMessage:
    role: str  # "user" | "system"
    text: str
    name: str | None = None
    sender_id: str | None = None
    otid: str | None = None


@dataclass(frozen=True)
class ApprovalInput:
    """The client's answer to a paused tool call (``approval_request_message``)."""

    approve: bool
    request_id: str  # the approval request's message id, or its tool_call_id
    reason: str | None = None
    tool_return: str | None = None  # a client-side tool's result (the client ran it): it is the return
    status: str = "success"


@dataclass(frozen=True)
class RunLease:
    """Whose run a turn writes to: the server process (``owner``) holding the run's lease, renewed for
    ``seconds`` by every step it writes. A step whose run another process took over (or closed) in the
    meantime writes nothing (``host.agent.step_write``)."""

    owner: str
    seconds: float


@dataclass(frozen=True)
class ClientToolSpec:
    """A tool the client runs (1.x ``client_tools``): offered to the model, never dispatched here."""

    name: str
    description: str
    parameters: dict[str, Any]


@dataclass(frozen=True)
class TurnRequest:
    agent_id: str
    messages: list[InputMessage]
    max_steps: int = DEFAULT_MAX_STEPS
    use_assistant_message: bool = True
    assistant_tool: str = "send_message"
    assistant_kwarg: str = "message"
    include_types: frozenset[str] | None = None
    stream_tokens: bool = False
    run_id: str | None = None
    call_depth: int = 0
    approval: ApprovalInput | None = None
    client_tools: tuple[ClientToolSpec, ...] = ()
    lease: RunLease | None = None  # set by the runner: the run is this process's while the lease holds


@dataclass
class AgentSnapshot:
    """Everything the loop reads about an agent at the start of a turn (no lazy loads later)."""

    id: str
    name: str
    system: str
    llm: LLMConfig
    embedding_config: dict[str, Any]
    rules: list[ToolRule]
    tools: list[ToolInfo]
    blocks: list[MemoryBlock]
    message_ids: list[str]
    env: dict[str, str]
    autoclear: bool
    version: datetime | None = None  # the agent row's updated_at when loaded (see store.HistoryCache)
    agent_type: str = "memgpt_agent"
    # when a memory block was last written (the prompt's "Memory blocks were last modified"); a turn's
    # prompt stays the same text until memory changes, so a preview matches it and provider caches hold
    memory_modified: datetime | None = None
    sleeptime_main: bool = False  # the main agent of a sleep-time group when loaded: its turns are counted

    @property
    def v1_loop(self) -> bool:
        """``letta_v1_agent``: no send_message, no heartbeats; plain text answers and ends the turn."""
        return self.agent_type == "letta_v1_agent"

    def tool(self, name: str) -> ToolInfo | None:
        return next((t for t in self.tools if t.name == name), None)


@dataclass
class Usage:
    completion_tokens: int = 0
    prompt_tokens: int = 0
    total_tokens: int = 0
    step_count: int = 0

    def statistics(self, run_ids: list[str] | None = None) -> UsageStatistics:
        return UsageStatistics(completion_tokens=self.completion_tokens, prompt_tokens=self.prompt_tokens,
                               total_tokens=self.total_tokens, step_count=self.step_count, run_ids=run_ids)

    def as_letta(self, run_ids: list[str] | None = None) -> dict[str, Any]:
        return self.statistics(run_ids).to_json()


@dataclass
class RunState:
    """Mutable state of one turn; services live elsewhere."""

    solver: SolverState = field(default_factory=SolverState)
    usage: Usage = field(default_factory=Usage)
    messages: list[LettaMessage] = field(default_factory=list)  # produced this turn
    stop_reason: str = "end_turn"
    timings: Timings = field(default_factory=lambda: Timings())


@dataclass
class Timings:
    """Where a turn's time went, in seconds (reported in the ``Server-Timing`` response header).

    ``model_cpu`` is the process's CPU time while the model calls ran: litellm's own work (building the
    request, parsing the reply) when turns run one at a time, as in ``bench/bench_loop.py``."""

    model: float = 0.0  # the model calls, through litellm: request building, the provider, response parsing
    model_cpu: float = 0.0
    db: float = 0.0  # the loop's reads and writes (run bookkeeping included)
    tools: float = 0.0  # the tool calls, through the dispatcher (a custom tool's sandbox run included)

    @contextmanager
    def measure(self, part: Literal["model", "db", "tools"]) -> Iterator[None]:
        started, cpu = time.perf_counter(), time.process_time()
        try:
            yield
        finally:
            setattr(self, part, getattr(self, part) + time.perf_counter() - started)
            if part == "model":
                self.model_cpu += time.process_time() - cpu


@dataclass
class TurnResult:
    messages: list[LettaMessage]
    stop_reason: str
    usage: Usage
    run_id: str | None
    run_closed: bool = False  # the run's end was written with the last step
    sleeptime_main: bool = False  # the agent managed a sleep-time group as the turn began (its turns are counted)
    timings: Timings = field(default_factory=lambda: Timings())

    def as_letta(self) -> dict[str, Any]:
        return {
            "messages": [m.to_json() for m in self.messages],
            "stop_reason": StopReason(self.stop_reason).to_json(),
            "usage": self.usage.as_letta(),
        }
