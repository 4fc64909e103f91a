"""Operations on agents, tools and memory that the REST API and the MCP server both call."""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import TYPE_CHECKING, Any

from host.llm.registry import ProviderRegistry
from host.persistence.db import Database
from host.persistence.secret_box import SecretBox
from host.services.agentfile import AgentFileService
from host.services.agents import AgentService
from host.services.archival import ArchivalService
from host.services.blocks import BlockService
from host.services.byok import ByokService
from host.services.conversations import ConversationService
from host.services.identities import IdentityService
from host.services.jobs import JobSignal
from host.services.memory import MemoryService
from host.services.messages import MessageService
from host.services.run_events import RunEventLog
from host.services.runs import RunService
from host.services.tenants import TenantService
from host.services.tools import ToolService
from host.settings import Settings

if TYPE_CHECKING:
    from host.agent.runner import Runner
    from host.services.batches import BatchService
    from host.services.groups.service import GroupService
    from host.services.mcp_servers import McpServerPool
    from host.services.provider_traces import ProviderTraceStore
    from host.services.telemetry import Telemetry
    from host.services.tool_catalogue import ToolCatalogue
    from host.tools.calls import ToolCaller
    from host.tools.dispatcher import ToolDispatcher
    from host.tools.sources.custom import SandboxRouter
    from host.wiring import ToolLayer

__all__ = ["CoreServices", "Services", "build_core"]


@dataclass(frozen=True)
class CoreServices:
    """Database-backed services; no outside processes."""

    settings: Settings
    db: Database
    registry: ProviderRegistry
    agents: AgentService
    blocks: BlockService
    tools: ToolService
    identities: IdentityService
    memory: MemoryService
    messages: MessageService
    archival: ArchivalService
    agentfiles: AgentFileService
    runs: RunService
    job_signal: JobSignal
    tenants: TenantService  # organizations, users, per-user API keys
    byok: ByokService  # organizations' own providers (keys encrypted at rest)
    run_events: RunEventLog  # background streams' events (POST /v1/runs/{id}/stream)
    conversations: ConversationService


@dataclass(frozen=True)
class Services(CoreServices):
    """Everything a request handler may use: core services plus the running tool layer and agent loop."""

    runner: Runner
    dispatcher: ToolDispatcher
    sandboxes: SandboxRouter
    mcp: McpServerPool
    tool_calls: ToolCaller  # the one rule-checked tool call (the loop's, and the catalogue's)
    catalogue: ToolCatalogue  # the tool catalogue for outside callers (the MCP server)
    groups: GroupService  # multi-agent groups and sleep-time agents, above the runner
    batches: BatchService  # message batches, run through the runner (host.services.batches)
    telemetry: Telemetry  # Prometheus metrics; what the loop reports
    traces: ProviderTraceStore  # provider traces (GET /v1/telemetry/{step_id})

    @classmethod
    def of(cls, core: CoreServices, layer: ToolLayer) -> Services:
        from host.services.batches import BatchService
        from host.services.groups.service import GroupService

        shared = {f.name: getattr(core, f.name) for f in fields(CoreServices)}
        return cls(**shared, runner=layer.runner, dispatcher=layer.dispatcher, sandboxes=layer.sandboxes,
                   mcp=layer.mcp, tool_calls=layer.tool_calls, catalogue=layer.catalogue,
                   groups=GroupService(core.db, layer.runner, core.agents),
                   batches=BatchService(core.db, core.runs, layer.runner),
                   telemetry=layer.telemetry, traces=layer.traces)

    async def context_view(self, agent_id: str) -> dict[str, Any]:
        from host.services.context_view import context_overview

        return await context_overview(self.db, agent_id)


def build_core(settings: Settings, db: Database, registry: ProviderRegistry) -> CoreServices:
    messages = MessageService(db)
    byok = ByokService(db, SecretBox.open(settings.home))
    return CoreServices(
        settings=settings,
        db=db,
        registry=registry,
        agents=AgentService(db, registry, byok),
        blocks=BlockService(db),
        tools=ToolService(db),
        identities=IdentityService(db),
        memory=MemoryService(db),
        messages=messages,
        archival=ArchivalService(db, settings.providers, byok.box),
        agentfiles=AgentFileService(db, messages),
        runs=RunService(db, lease_s=settings.limits.run_lease_s),
        job_signal=JobSignal(),
        tenants=TenantService(db),
        byok=byok,
        run_events=RunEventLog(db),
        conversations=ConversationService(db),
    )
