"""Fixtures for group tests: the real letta-client SDK, agents with their own scripted model each."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from letta_client import Letta

from tests.host.multi_agent.conftest import make_agent, token  # noqa: F401 - the same fixtures
from tests.support.server import ServerProcess

EMBEDDING = "openai/text-embedding-3-small"


@pytest.fixture(scope="session")
def client(server: ServerProcess) -> Letta:
    return Letta(base_url=server.base_url, timeout=60)


@pytest.fixture(scope="session")
def http(server: ServerProcess) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server.base_url, timeout=60) as c:
        yield c
