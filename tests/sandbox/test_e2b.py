"""The E2B backend, driving the real e2b-code-interpreter SDK against a loopback fake of E2B's API."""

import pytest

from sandbox import AgentStateSnapshot, BlockSnapshot, E2BSandbox, E2BSandboxConfig, SandboxRequest
from tests.support.fake_e2b import running_fake_e2b

pytestmark = pytest.mark.anyio

ADD = "def add(a: int, b: int) -> int:\n    print('adding')\n    return a + b\n"


def config_for(url: str, **kwargs) -> E2BSandboxConfig:
    return E2BSandboxConfig(api_key="e2b-test-key", api_url=url, sandbox_url=url, template="my-template", **kwargs)


async def test_a_tool_runs_in_an_e2b_sandbox():
    async with running_fake_e2b() as fake, E2BSandbox(config_for(fake.url)) as sb:
        result = await sb.run(SandboxRequest(source_code=ADD, args={"a": 2, "b": 40}, reuse_key="agent-1"))
    assert result.status == "success", result
    assert result.func_return == 42
    assert result.stdout == ["adding\n"]
    assert fake.api_keys == ["e2b-test-key"]
    assert fake.created[0]["templateID"] == "my-template"


async def test_arguments_travel_as_one_json_literal_never_as_code():
    evil = "\"); import os; os._exit(3); (\""
    async with running_fake_e2b() as fake, E2BSandbox(config_for(fake.url)) as sb:
        result = await sb.run(SandboxRequest(source_code="def echo(t):\n    return t\n", args={"t": evil}))
    assert result.func_return == evil
    assert evil not in fake.executions[0]["code"]


async def test_errors_env_vars_and_agent_state_edits():
    state = AgentStateSnapshot(id="agent-1", name="sam", blocks=[BlockSnapshot(label="human", value="?")])
    edit = "import os\ndef edit(agent_state):\n    agent_state.memory.update_block_value('human', os.environ['WHO'])\n    return 'ok'\n"
    async with running_fake_e2b() as fake, E2BSandbox(config_for(fake.url)) as sb:
        failed = await sb.run(SandboxRequest(source_code="def f():\n    raise KeyError('nope')\n", reuse_key="a"))
        edited = await sb.run(SandboxRequest(source_code=edit, env={"WHO": "Ada"}, agent_state=state, reuse_key="a"))
    assert failed.status == "error" and failed.error == "KeyError: 'nope'"
    assert "Traceback" in failed.stderr[0]
    assert edited.status == "success", edited
    assert edited.agent_state.block("human").value == "Ada"
    assert fake.executions[-1]["env_vars"] == {"WHO": "Ada"}


async def test_sandboxes_are_reused_per_key_and_all_killed_on_close():
    async with running_fake_e2b() as fake:
        async with E2BSandbox(config_for(fake.url)) as sb:
            for key in ["agent-1", "agent-1", "agent-2"]:
                assert (await sb.run(SandboxRequest(source_code=ADD, args={"a": 1, "b": 1}, reuse_key=key))).func_return == 2
            assert len(fake.created) == 2 and fake.killed == []
            await sb.run(SandboxRequest(source_code=ADD, args={"a": 1, "b": 1}))  # no key: its own sandbox
            assert len(fake.created) == 3 and len(fake.killed) == 1
        assert sorted(fake.killed) == sorted(c["id"] for c in fake.created)
        assert fake.live == set()


async def test_an_idle_sandbox_expires_after_its_ttl():
    async with running_fake_e2b() as fake, E2BSandbox(config_for(fake.url, ttl_s=0.0)) as sb:
        await sb.run(SandboxRequest(source_code=ADD, args={"a": 1, "b": 1}, reuse_key="agent-1"))
        await sb.reap_expired()
        assert len(fake.killed) == 1
        await sb.run(SandboxRequest(source_code=ADD, args={"a": 1, "b": 1}, reuse_key="agent-1"))
        assert len(fake.created) == 2


async def test_a_timeout_is_an_error_and_the_sandbox_is_discarded():
    slow = "import time\ndef slow():\n    time.sleep(30)\n"
    async with running_fake_e2b() as fake, E2BSandbox(config_for(fake.url)) as sb:
        result = await sb.run(SandboxRequest(source_code=slow, timeout_s=1.0, reuse_key="agent-1"))
        assert result.status == "error"
        assert result.error == "Tool timed out after 1.0 s; the E2B sandbox was killed"
        assert fake.killed == [fake.created[0]["id"]]
