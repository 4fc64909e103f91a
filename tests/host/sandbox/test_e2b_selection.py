"""E2B is chosen explicitly (an e2b sandbox config AND an API key), here against the loopback fake E2B."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import anyio
import httpx
import pytest

from tests.support.fake_e2b import running_fake_e2b

SRC = "import os\n\ndef where() -> str:\n    return f\"{os.environ.get('E2B_VAR')}|{os.environ.get('OPENAI_API_KEY')}|{os.environ.get('E2B_API_KEY')}\"\n"


@pytest.mark.anyio
async def test_e2b_runs_tools_only_once_an_e2b_config_exists(make_server: Callable[..., Any]) -> None:
    async with running_fake_e2b() as fake:
        server = await anyio.to_thread.run_sync(lambda: make_server({
            "E2B_API_KEY": "e2b-test-key", "E2B_API_URL": fake.url, "E2B_SANDBOX_URL": fake.url,
            "OPENAI_API_KEY": "sk-server-secret"}))
        async with httpx.AsyncClient(base_url=server.base_url, timeout=60) as http:
            async def run() -> dict[str, Any]:
                resp = await http.post("/v1/tools/run", json={"source_code": SRC, "args": {}})
                assert resp.status_code == 200, resp.text
                return resp.json()

            # An API key alone does not select E2B.
            out = await run()
            assert out["status"] == "success" and out["tool_return"] == "None|None|None"
            assert fake.created == []

            config = (await http.post("/v1/sandbox-config/e2b/default")).json()
            assert config["type"] == "e2b" and config["config"]["timeout"] == 300
            env = await http.post(f"/v1/sandbox-config/{config['id']}/environment-variable",
                                  json={"key": "E2B_VAR", "value": "remote"})
            assert env.status_code == 200, env.text
            out = await run()
            assert out["status"] == "success", out
            assert out["tool_return"] == "remote|None|None"
            assert len(fake.created) == 1 and fake.api_keys == ["e2b-test-key"]

            out = await run()
            assert out["status"] == "success"
            failing = await http.post("/v1/tools/run", json={"source_code": "def f():\n    raise KeyError('k')\n",
                                                              "args": {}})
            assert failing.json()["status"] == "error" and "KeyError" in failing.json()["tool_return"]

            # Deleting the e2b config goes back to the local sandbox.
            assert (await http.delete(f"/v1/sandbox-config/{config['id']}")).status_code == 204
            created = len(fake.created)
            out = await run()
            assert out["tool_return"] == "None|None|None" and len(fake.created) == created
        log = server.log()
        assert "e2b-test-key" not in log and "remote" not in log
