"""Building the app for ``agenthost serve``; ``host.entry:app`` is the factory uvicorn calls in each worker."""

from __future__ import annotations

import gc
import os
import signal
import sys
from typing import TYPE_CHECKING

from host.settings import Settings

if TYPE_CHECKING:
    from fastapi import FastAPI


def build(settings: Settings) -> FastAPI:
    """Import and create the app with the garbage collector paused.

    Start-up creates a few hundred thousand long-lived objects (schemas, routes, ORM mappings) and
    almost no garbage, so collections during it are wasted time (about 80 ms). Afterwards those
    objects are frozen: later collections skip them.
    """
    gc.disable()
    try:
        from host.app import create_app

        return create_app(settings)
    finally:
        gc.freeze()
        gc.enable()


def app() -> FastAPI:
    from host.cli import configure_log_scrubbing

    _die_with_the_supervisor()
    configure_log_scrubbing()  # a worker process starts here, not in ``host.cli.main``
    return build(Settings.from_env(os.environ))


def _die_with_the_supervisor() -> None:
    """A worker of ``serve --workers N`` gets SIGTERM when its supervisor dies, however it dies (``kill -9``
    too): the supervisor holds the data directory lock for its workers, and a worker serving on without it
    would share the SQLite file with whichever server takes the directory next."""
    if sys.platform.startswith("linux"):
        import ctypes

        try:
            ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM, 0, 0, 0)  # PR_SET_PDEATHSIG = 1
        except (OSError, AttributeError):
            return
