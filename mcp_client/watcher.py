"""Follow a pool's tool lists: which servers' listed tools changed since last time.

A server's listed tools change when it becomes ready (tools arriving late, at start or after a restart),
when it re-lists them on ``notifications/tools/list_changed`` (or a 2026-07-28 subscription event), when it
stops being ready, and when it is removed while ready. ``ToolListWatcher.changes()`` yields one
``ToolListChange`` per settled batch of such changes; a state change that leaves every tool list as it was
(a ping, a failed retry of a server that was not ready) yields nothing.

    async for change in ToolListWatcher(pool).changes():
        change.servers      # names whose tool list differs (added, removed, re-listed, ready or not)
        change.ready        # {name: [McpTool]} for those of them that are ready now
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import anyio

from mcp_client.carriers import McpTool

if TYPE_CHECKING:
    from mcp_client.pool import McpPool

SETTLE_S = 0.05  # a burst of changes (a restart's error -> connecting -> ready) becomes one batch

Fingerprint = tuple[tuple[str, str, str, str], ...]
_NOTHING: tuple[bool, Fingerprint] = (False, ())  # a server that lists nothing: absent, or not ready


@dataclass(frozen=True, slots=True)
class ToolListChange:
    servers: frozenset[str]
    ready: dict[str, list[McpTool]] = field(default_factory=dict)


def _fingerprint(tools: list[McpTool]) -> Fingerprint:
    return tuple(sorted(
        (t.name, t.description, json.dumps(t.input_schema, sort_keys=True, default=str),
         json.dumps(t.annotations, sort_keys=True, default=str))
        for t in tools
    ))


class ToolListWatcher:
    def __init__(self, pool: McpPool, settle_s: float = SETTLE_S) -> None:
        self.pool = pool
        self.settle_s = settle_s

    def _snapshot(self) -> dict[str, tuple[bool, Fingerprint]]:
        """Per server: whether it is ready, and the fingerprint of the tools it lists."""
        listed: dict[str, list[McpTool]] = {status.name: [] for status in self.pool.states()}
        for tool in self.pool.list_tools():
            listed.setdefault(tool.server, []).append(tool)
        ready = {status.name for status in self.pool.states() if status.state == "ready"}
        return {name: (name in ready, _fingerprint(tools)) for name, tools in listed.items()}

    async def changes(self) -> AsyncIterator[ToolListChange]:
        """Yield every change of any server's listed tools from now on (the current lists are the baseline)."""
        last = self._snapshot()
        while True:
            event = self.pool.change_event()  # taken before the snapshot below, so no change is missed
            now = self._snapshot()
            if now == last:
                await event.wait()
                await anyio.sleep(self.settle_s)
                continue
            changed = frozenset(name for name in now.keys() | last.keys()
                                if now.get(name, _NOTHING) != last.get(name, _NOTHING))
            last = now
            ready = {name: self.pool.list_tools(name) for name in sorted(changed) if now.get(name, (False,))[0]}
            yield ToolListChange(changed, ready)


__all__ = ["ToolListChange", "ToolListWatcher"]
