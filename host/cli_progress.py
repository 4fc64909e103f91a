"""Progress of long CLI steps (venv creation, package installs) on stderr, whatever the --log-level.

The sandbox already reports each step and each pip output line on the ``sandbox.venv`` logger (at INFO).
While ``show_progress()`` is active those records are shown: on a terminal as one live status line
(``rich``), elsewhere as plain lines (``agenthost: venv ...: Collecting numpy``). When the log level
already shows INFO, the log itself is the progress and nothing is added.
"""

from __future__ import annotations

import logging
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import IO, Any

PROGRESS_LOGGERS = ("sandbox.venv",)


class _ProgressHandler(logging.Handler):
    def __init__(self, stream: IO[str], status: Any | None, started: float) -> None:
        super().__init__(logging.INFO)
        self.stream, self.status, self.started = stream, status, started
        self.lines = 0

    def emit(self, record: logging.LogRecord) -> None:
        try:
            message = record.getMessage()
            self.lines += 1
            if self.status is not None:
                self.status.update(f"[{time.monotonic() - self.started:4.0f} s] {message}")
            else:
                self.stream.write(f"agenthost: {message}\n")
                self.stream.flush()
        except Exception:  # noqa: BLE001 - progress must never break the operation
            self.handleError(record)


@contextmanager
def show_progress(label: str, stream: IO[str] | None = None, tty: bool | None = None) -> Iterator[None]:
    """Show the sandbox's venv progress until the block ends; ``label`` heads the status on a terminal."""
    out = stream or sys.stderr
    if logging.getLogger().getEffectiveLevel() <= logging.INFO:
        yield
        return
    is_tty = out.isatty() if tty is None else tty
    status_cm: Any = None
    if is_tty:
        from rich.console import Console

        status_cm = Console(file=out, stderr=out is sys.stderr).status(label, spinner="dots")
    loggers = [logging.getLogger(name) for name in PROGRESS_LOGGERS]
    saved = [(lg.level, lg.propagate) for lg in loggers]
    started = time.monotonic()
    status = status_cm.__enter__() if status_cm is not None else None
    handler = _ProgressHandler(out, status_cm, started)
    for lg in loggers:
        lg.setLevel(logging.INFO)
        lg.propagate = False  # the root handler would print them again (it is at WARNING or above)
        lg.addHandler(handler)
    try:
        yield
    finally:
        for lg, (level, propagate) in zip(loggers, saved, strict=False):
            lg.removeHandler(handler)
            lg.setLevel(level)
            lg.propagate = propagate
        if status_cm is not None:
            status_cm.__exit__(None, None, None)
            if handler.lines:
                out.write(f"agenthost: {label} done in {time.monotonic() - started:.1f} s\n")
        del status


__all__ = ["show_progress"]
