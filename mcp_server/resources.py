"""Resources: each agent's memory blocks and recent history, their templates, and update notifications.

Clients on handshake revisions (2025-03-26 .. 2025-11-25) subscribe with ``resources/subscribe`` and get
``notifications/resources/updated`` on their connection; clients on 2026-07-28 open a
``subscriptions/listen`` stream, fed by the SDK's subscription bus. ``Subscriptions.changed`` serves both.
"""

from __future__ import annotations

import json
import logging
from typing import Any

import mcp_types as types
from mcp.server.subscriptions import InMemorySubscriptionBus, ResourceUpdated
from mcp.shared.exceptions import MCPError

from mcp_server.backend import Backend
from mcp_server.errors import McpServerError
from mcp_server.uris import BLOCK_TEMPLATE, HISTORY_TEMPLATE, block_uri, history_uri, parse_uri

logger = logging.getLogger(__name__)

HISTORY_LIMIT = 50
RESOURCE_NOT_FOUND = -32002  # the spec's code for an unknown resource
MAX_LISTED_AGENTS = 100


class Subscriptions:
    """Who is told when a resource changes: handshake-era sessions by URI, and the listen bus."""

    def __init__(self) -> None:
        self.bus = InMemorySubscriptionBus()
        self._legacy: dict[str, dict[str, Any]] = {}  # uri -> {session key: ServerSession}

    def subscribe(self, uri: str, key: str, session: Any) -> None:
        self._legacy.setdefault(uri, {})[key] = session

    def unsubscribe(self, uri: str, key: str) -> None:
        self._legacy.get(uri, {}).pop(key, None)

    def subscribers(self, uri: str) -> int:
        return len(self._legacy.get(uri, {}))

    async def changed(self, uris: list[str]) -> None:
        for uri in dict.fromkeys(uris):
            for key, session in list(self._legacy.get(uri, {}).items()):
                try:
                    await session.send_resource_updated(uri)
                except Exception:  # the subscriber's connection is gone: forget it
                    logger.debug("dropping subscriber %s of %s", key, uri, exc_info=True)
                    self.unsubscribe(uri, key)
            await self.bus.publish(ResourceUpdated(uri=uri))


def templates() -> list[types.ResourceTemplate]:
    return [
        types.ResourceTemplate(name="memory-block", title="Agent memory block", uri_template=BLOCK_TEMPLATE,
                               description="One core memory block of an agent (always in its context window).",
                               mime_type="text/plain"),
        types.ResourceTemplate(name="history", title="Agent conversation history", uri_template=HISTORY_TEMPLATE,
                               description=f"The agent's last {HISTORY_LIMIT} messages, as JSON.",
                               mime_type="application/json"),
    ]


async def list_resources(backend: Backend, agent_id: str | None) -> list[types.Resource]:
    agents = [await backend.get_agent(agent_id)] if agent_id else await backend.list_agents(None, MAX_LISTED_AGENTS)
    out: list[types.Resource] = []
    for agent in agents:
        for block in agent.blocks:
            out.append(types.Resource(uri=block_uri(agent.id, block.label), name=f"{agent.name}/{block.label}",
                                      description=block.description or f"Memory block {block.label!r} of {agent.name}",
                                      mime_type="text/plain"))
        out.append(types.Resource(uri=history_uri(agent.id), name=f"{agent.name}/history",
                                  description=f"Recent conversation of {agent.name}", mime_type="application/json"))
    return out


async def read_resource(backend: Backend, uri: str) -> types.ReadResourceResult:
    ref = parse_uri(uri)
    if ref is None:
        raise MCPError(types.INVALID_PARAMS, f"Unknown resource {uri!r}; expected {BLOCK_TEMPLATE} or "
                                             f"{HISTORY_TEMPLATE}")
    try:
        if ref.kind == "block":
            block = await backend.block(ref.agent_id, ref.label or "")
            content = types.TextResourceContents(uri=uri, mime_type="text/plain", text=block.value)
        else:
            entries = await backend.history(ref.agent_id, HISTORY_LIMIT)
            content = types.TextResourceContents(uri=uri, mime_type="application/json",
                                                 text=json.dumps(entries, indent=2, ensure_ascii=False))
    except McpServerError as exc:
        raise MCPError(RESOURCE_NOT_FOUND, exc.message, {"uri": uri}) from None
    return types.ReadResourceResult(contents=[content])


__all__ = ["Subscriptions", "list_resources", "read_resource", "templates"]
