"""SandboxRouter in-process with a real local sandbox: server-held keys never reach custom tools."""

from __future__ import annotations

from pathlib import Path

import pytest

from host.tools.sources.custom import SandboxPlan, SandboxRouter
from sandbox import LocalSandboxConfig

SRC = "import os\n\ndef keys() -> str:\n    return f\"{os.environ.get('E2B_API_KEY')}|{os.environ.get('MINE')}|{os.environ.get('BASE')}\"\n"


@pytest.mark.anyio
async def test_server_keys_are_withheld_but_agent_values_and_base_env_pass(tmp_path: Path) -> None:
    plan = SandboxPlan(local=LocalSandboxConfig(warm_pool_size=0, venv_cache_dir=tmp_path), local_env={"BASE": "b"})
    async with SandboxRouter(withheld={"E2B_API_KEY": "server-key"}) as router:
        await router.apply(plan)
        # The loop merges the server's keys into the agent's env: the unchanged server key is dropped.
        result = await router.run_tool(source_code=SRC, function_name="keys", args={},
                                       env={"E2B_API_KEY": "server-key", "MINE": "m"}, pip_requirements=None,
                                       agent_id="agent-x", agent_name="x", blocks=[])
        assert result.status == "success" and result.func_return == "None|m|b"
        # An agent that sets its own value keeps it.
        result = await router.run_tool(source_code=SRC, function_name="keys", args={},
                                       env={"E2B_API_KEY": "agent-key"}, pip_requirements=None,
                                       agent_id="agent-x", agent_name="x", blocks=[])
        assert result.func_return == "agent-key|None|b"
