"""Resource URIs: an agent's memory blocks and its recent history."""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import quote, unquote

SCHEME = "agenthost"
BLOCK_TEMPLATE = "agenthost://agents/{agent_id}/blocks/{label}"
HISTORY_TEMPLATE = "agenthost://agents/{agent_id}/history"

_BLOCK = re.compile(r"^agenthost://agents/(?P<agent>[^/]+)/blocks/(?P<label>[^/]+)$")
_HISTORY = re.compile(r"^agenthost://agents/(?P<agent>[^/]+)/history$")


@dataclass(frozen=True)
class ResourceRef:
    kind: str  # "block" | "history"
    agent_id: str
    label: str | None = None


def block_uri(agent_id: str, label: str) -> str:
    return f"agenthost://agents/{quote(agent_id, safe='')}/blocks/{quote(label, safe='')}"


def history_uri(agent_id: str) -> str:
    return f"agenthost://agents/{quote(agent_id, safe='')}/history"


def parse_uri(uri: str) -> ResourceRef | None:
    if m := _BLOCK.match(uri):
        return ResourceRef("block", unquote(m["agent"]), unquote(m["label"]))
    if m := _HISTORY.match(uri):
        return ResourceRef("history", unquote(m["agent"]))
    return None


__all__ = ["BLOCK_TEMPLATE", "HISTORY_TEMPLATE", "ResourceRef", "block_uri", "history_uri", "parse_uri"]
