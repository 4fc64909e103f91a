"""Logging for the ``agenthost`` commands: configured here, once, by the entrypoint (``host.cli``).

- ``text`` (default): ``2026-12-06 03:46:48,123 WARNING mcp_client.server: MCP server 'time': ...``
- ``json``: one object per line — ``ts``, ``level``, ``logger``, ``message``, the ids a record carries
  (``agent_id``, ``run_id``, ``server``, given as ``extra=``) and ``exc`` for a traceback.

Repeated failures are rate-limited: a warning or error identical to one already logged in the last
``window_s`` seconds (same logger, level, message template and non-numeric arguments — a retry delay, a
pid or an attempt count does not make a message new) is counted instead of printed; the next one let
through after the window says how many were held back. Logs go to stderr (stdout belongs to the MCP
protocol under ``agenthost mcp`` and to the result under ``agenthost tools run``).
"""

from __future__ import annotations

import json
import logging
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import IO, Any, Literal

LEVELS = ("critical", "error", "warning", "info", "debug")
FORMATS = ("text", "json")
LogFormat = Literal["text", "json"]

CONTEXT_FIELDS = ("agent_id", "run_id", "step_id", "server", "tool", "job_id")
TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        out: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        for name in CONTEXT_FIELDS:
            value = getattr(record, name, None)
            if value is not None:
                out[name] = value
        if record.exc_info:
            out["exc"] = self.formatException(record.exc_info)
        return json.dumps(out, ensure_ascii=False, default=str)


class RepeatFilter(logging.Filter):
    """Hold back warnings and errors identical to one logged less than ``window_s`` seconds ago."""

    def __init__(self, window_s: float = 600.0, clock: Callable[[], float] = time.monotonic) -> None:
        super().__init__()
        self.window_s = window_s
        self._clock = clock
        self._seen: dict[tuple[Any, ...], tuple[float, int]] = {}  # key -> (last emitted at, held back since)

    @staticmethod
    def _key(record: logging.LogRecord) -> tuple[Any, ...]:
        args = record.args if isinstance(record.args, tuple) else (record.args,)
        words = tuple(str(a) for a in args if not isinstance(a, (int, float)))
        return record.name, record.levelno, str(record.msg), words

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno < logging.WARNING:
            return True
        key = self._key(record)
        now = self._clock()
        seen = self._seen.get(key)
        if seen is not None and now - seen[0] < self.window_s:
            self._seen[key] = (seen[0], seen[1] + 1)
            return False
        held = seen[1] if seen is not None else 0
        if held:
            minutes = max(1, round((now - seen[0]) / 60)) if seen is not None else 1
            record.msg = f"{record.getMessage()} (and {held} more like it in the last {minutes} min)"
            record.args = None
        if len(self._seen) > 4096:  # bounded: forget the oldest half
            for old in sorted(self._seen, key=lambda k: self._seen[k][0])[:2048]:
                del self._seen[old]
        self._seen[key] = (now, 0)
        return True


def configure(level: str = "info", fmt: LogFormat = "text", stream: IO[str] | None = None,
              window_s: float = 600.0) -> logging.Handler:
    """Route every logger (uvicorn's too) to one stderr handler; return that handler."""
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(JsonFormatter() if fmt == "json" else logging.Formatter(TEXT_FORMAT))
    handler.addFilter(RepeatFilter(window_s))
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(getattr(logging, level.upper()))
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        named = logging.getLogger(name)
        named.handlers.clear()
        named.propagate = True
    return handler


__all__ = ["FORMATS", "LEVELS", "JsonFormatter", "LogFormat", "RepeatFilter", "configure"]
