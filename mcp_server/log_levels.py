"""``logging/setLevel`` and the log notifications a session receives.

Each session (its key from ``connection_scope``) has a minimum level, ``info`` until the client sets one;
notifications below it are not sent. Levels are RFC 5424's, in the protocol's spelling. The table is
bounded: the oldest sessions are forgotten first (they fall back to the default).
"""

from __future__ import annotations

import logging
from collections import OrderedDict
from typing import Any

logger = logging.getLogger(__name__)

LEVELS = ("debug", "info", "notice", "warning", "error", "critical", "alert", "emergency")
_RANK = {name: i for i, name in enumerate(LEVELS)}
DEFAULT_LEVEL = "info"
MAX_SESSIONS = 1024


class SessionLogLevels:
    """The minimum level per session; ``send`` delivers a notification only at or above it."""

    def __init__(self, max_sessions: int = MAX_SESSIONS) -> None:
        self._levels: OrderedDict[str, str] = OrderedDict()
        self._max = max_sessions

    def set(self, session_key: str, level: str) -> None:
        if level not in _RANK:
            raise ValueError(f"unknown logging level {level!r}; one of {', '.join(LEVELS)}")
        self._levels[session_key] = level
        self._levels.move_to_end(session_key)
        while len(self._levels) > self._max:
            self._levels.popitem(last=False)

    def level(self, session_key: str) -> str:
        return self._levels.get(session_key, DEFAULT_LEVEL)

    def wants(self, session_key: str, level: str) -> bool:
        return _RANK[level] >= _RANK[self.level(session_key)]

    async def send(self, session: Any, session_key: str, level: str, data: Any, logger_name: str = "agenthost") -> None:
        """Send one ``notifications/message`` if the session's level lets it through (never raises)."""
        if not self.wants(session_key, level):
            return
        try:
            await session.send_log_message(level, data, logger_name)
        except Exception:  # a gone client must not fail the request that is logging
            logger.debug("log notification to %s not delivered", session_key, exc_info=True)


__all__ = ["DEFAULT_LEVEL", "LEVELS", "SessionLogLevels"]
