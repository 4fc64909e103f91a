"""One agenthost at --log-level debug with secrets planted everywhere, exercised once for the package
(see ``planted.py``); the tests search what it answered, logged and sent to the model."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import httpx
import pytest

from tests.conftest import test_database_uri
from tests.host.security.planted import RefusingEndpoint, Scenario, plant
from tests.support.scripted_llm import ScriptedLLM
from tests.support.server import ServerProcess, server_env


@pytest.fixture(scope="package")
def scenario(scripted_llm: ScriptedLLM, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Scenario]:
    home = tmp_path_factory.mktemp("secrets")
    tag = uuid.uuid4().hex[:8]
    with RefusingEndpoint() as endpoint:
        proc = ServerProcess(home=home, env=server_env(home, scripted_llm.base_url, pg_uri=test_database_uri()),
                             log_level="debug").start()
        try:
            with httpx.Client(base_url=proc.base_url, timeout=60) as http:
                sc = Scenario(proc, http, f"secrets-model-{tag}", "", {
                    "failing": f"failing_{tag}", "leaky": f"leaky_{tag}", "remote": f"remote_{tag}"}, {}, {}, "",
                    endpoint, argv_log=home / "failing-argv.log")
                plant(sc, scripted_llm, tag)
                yield sc
        finally:
            proc.stop()
