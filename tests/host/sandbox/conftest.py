"""Fixtures for the host side of custom tools: raw httpx against the session server."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest


@pytest.fixture
def unique() -> Callable[[str], str]:
    token = uuid.uuid4().hex[:8]
    return lambda prefix: f"{prefix}_{token}"


@pytest.fixture
def run(http: httpx.Client) -> Callable[..., dict[str, Any]]:
    """POST /v1/tools/run and return the tool_return_message (always a 200)."""

    def call(source: str, args: dict[str, Any] | None = None, **extra: Any) -> dict[str, Any]:
        resp = http.post("/v1/tools/run", json={"source_code": source, "args": args or {}, **extra})
        assert resp.status_code == 200, resp.text
        return resp.json()

    return call


@pytest.fixture
def local_config(http: httpx.Client) -> Iterator[dict[str, Any]]:
    """The session server's local sandbox config, deleted afterwards (the server goes back to its settings)."""
    resp = http.post("/v1/sandbox-config/local/default")
    assert resp.status_code == 200, resp.text
    config = resp.json()
    yield config
    assert http.delete(f"/v1/sandbox-config/{config['id']}").status_code in (204, 404)
