"""The app factory uvicorn imports in each worker process (``host.entry:app``)."""

from __future__ import annotations

import os

from fastapi import FastAPI

from host.app import create_app
from host.settings import Settings


def app() -> FastAPI:
    return create_app(Settings.from_env(os.environ))
