"""Multi-agent groups (issue 16): a service above the agent loop.

    store.py      the groups tables: CRUD, validation, members, the group's messages
    turns.py      one message to a group: the members' turns through the runner, per manager type
    stream.py     a streamed group turn: the members' messages (or token deltas) as they are made
    sleeptime.py  sleep-time agents: enable_sleeptime, the background runs every N-th turn
"""

from host.services.groups.store import GroupStore
from host.services.groups.stream import stream_group
from host.services.groups.turns import GroupReply, GroupTurns

__all__ = ["GroupReply", "GroupStore", "GroupTurns", "stream_group"]
