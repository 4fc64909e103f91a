"""Lifespan resources of this area (none yet)."""

from __future__ import annotations

from contextlib import asynccontextmanager
from typing import Any, AsyncIterator


@asynccontextmanager
async def lifespan(services: Any) -> AsyncIterator[None]:
    yield
