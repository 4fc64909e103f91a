"""Operations on agents, tools and memory that the REST API and the MCP server both call."""

from __future__ import annotations

from dataclasses import dataclass

from host.persistence.db import Database
from host.providers import ProviderRegistry
from host.services.agentfile import AgentFileService
from host.services.agents import AgentService
from host.services.archival import ArchivalService
from host.services.blocks import BlockService
from host.services.identities import IdentityService
from host.services.memory import MemoryService
from host.services.messages import MessageService
from host.services.tools import ToolService
from host.settings import Settings

__all__ = ["Services", "build_services"]


@dataclass(frozen=True)
class Services:
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


def build_services(settings: Settings, db: Database, registry: ProviderRegistry) -> Services:
    messages = MessageService(db)
    return Services(
        settings=settings,
        db=db,
        registry=registry,
        agents=AgentService(db, registry),
        blocks=BlockService(db),
        tools=ToolService(db),
        identities=IdentityService(db),
        memory=MemoryService(db),
        messages=messages,
        archival=ArchivalService(db, settings.providers),
        agentfiles=AgentFileService(db, messages),
    )
