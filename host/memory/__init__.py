"""An agent's core memory as stored: its blocks, its memory counts and the system prompt they compile into.

Synchronous helpers on one SQLAlchemy ``Session`` (async callers: ``session.run_sync``), shared by the
loop's step writes and by the services, below both.
"""

from host.memory.system import (
    ARCHIVAL_COUNT,
    RECALL_COUNT,
    blocks_of,
    compiled_system,
    count_memories,
    mark_stale,
    memory_stats,
    recompile_sharing,
    recompile_system,
    refresh_stale,
    stale_agents,
)

__all__ = ["ARCHIVAL_COUNT", "RECALL_COUNT", "blocks_of", "compiled_system", "count_memories", "mark_stale",
           "memory_stats", "recompile_sharing", "recompile_system", "refresh_stale", "stale_agents"]
