"""The local backend: what a tool call returns, in real subprocesses."""

import dataclasses
import os

import anyio
import pytest

from sandbox import AgentStateSnapshot, BlockSnapshot, LocalSandbox, LocalSandboxConfig, SandboxRequest

pytestmark = pytest.mark.anyio


async def run(config: LocalSandboxConfig, source: str, **kwargs):
    async with LocalSandbox(config) as sb:
        return await sb.run(SandboxRequest(source_code=source, **kwargs))


async def test_a_trivial_tool_returns_its_value_and_stdout(local_config):
    src = "def add(a: int, b: int) -> int:\n    print('adding', a, b)\n    return a + b\n"
    result = await run(local_config, src, args={"a": 2, "b": 3})
    assert result.status == "success"
    assert result.func_return == 5
    assert result.stdout == ["adding 2 3\n"]
    assert result.error is None
    assert result.duration_ms > 0


async def test_the_last_top_level_function_is_called_unless_one_is_named(local_config):
    src = "def helper():\n    return 'helper'\n\ndef main_tool():\n    return 'main'\n"
    assert (await run(local_config, src)).func_return == "main"
    assert (await run(local_config, src, function_name="helper")).func_return == "helper"


async def test_json_values_come_back_as_json_and_others_as_str(local_config):
    src = "def f():\n    return {'a': [1, 2.5, None, True], 'b': 'x'}\n"
    assert (await run(local_config, src)).func_return == {"a": [1, 2.5, None, True], "b": "x"}
    src = "class Thing:\n    def __str__(self):\n        return 'a thing'\n\ndef f():\n    return Thing()\n"
    assert (await run(local_config, src)).func_return == "a thing"


async def test_arguments_are_data_never_code(local_config):
    evil = "'); import os; os._exit(3); ('"
    src = "def echo(text: str) -> str:\n    return text\n"
    result = await run(local_config, src, args={"text": evil})
    assert result.status == "success" and result.func_return == evil


async def test_an_exception_is_an_error_result_with_a_traceback(local_config):
    src = "def boom(x):\n    raise ValueError(f'bad value {x}')\n"
    result = await run(local_config, src, args={"x": 7})
    assert result.status == "error"
    assert result.error == "ValueError: bad value 7"
    assert "Traceback" in result.stderr[0] and "bad value 7" in result.stderr[0]


async def test_a_syntax_error_in_the_tool_source_is_an_error_result(local_config):
    result = await run(local_config, "def broken(:\n    pass\n")
    assert result.status == "error" and result.error.startswith("SyntaxError")


async def test_a_missing_package_is_a_clear_error(local_config):
    src = "def f():\n    import surely_not_installed_pkg\n    return 1\n"
    result = await run(local_config, src)
    assert result.status == "error"
    assert "ModuleNotFoundError: No module named 'surely_not_installed_pkg'" in result.error
    assert "pip_requirements" in result.error


async def test_async_tools_are_awaited(local_config):
    src = "import asyncio\n\nasync def slow_double(x: int) -> int:\n    await asyncio.sleep(0.01)\n    return 2 * x\n"
    result = await run(local_config, src, args={"x": 21})
    assert result.status == "success" and result.func_return == 42


async def test_agent_state_edits_come_back_to_the_host(local_config):
    state = AgentStateSnapshot(
        id="agent-1",
        name="sam",
        blocks=[BlockSnapshot(label="human", value="Name: ?", limit=100), BlockSnapshot(label="persona", value="I am Sam")],
    )
    src = (
        "def remember(agent_state, name: str) -> str:\n"
        "    block = agent_state.memory.get_block('human')\n"
        "    agent_state.memory.update_block_value(label='human', value=block.value.replace('?', name))\n"
        "    return f\"{agent_state.name}:{','.join(agent_state.memory.list_block_labels())}\"\n"
    )
    result = await run(local_config, src, args={"name": "Ada"}, agent_state=state)
    assert result.status == "success", result
    assert result.func_return == "sam:human,persona"
    assert result.agent_state is not None
    assert result.agent_state.block("human") == BlockSnapshot(label="human", value="Name: Ada", limit=100)
    assert result.agent_state.block("persona").value == "I am Sam"


async def test_tools_without_an_agent_state_parameter_return_no_state(local_config):
    state = AgentStateSnapshot(id="agent-1", blocks=[BlockSnapshot(label="human", value="x")])
    result = await run(local_config, "def f():\n    return 1\n", agent_state=state)
    assert result.status == "success" and result.agent_state is None


async def test_server_secrets_are_invisible_and_explicit_variables_visible(local_config):
    os.environ["OPENAI_API_KEY"] = "sk-server-secret"
    try:
        config = dataclasses.replace(local_config, base_env={"SANDBOX_CONFIG_VAR": "from-config"})
        src = (
            "import os, subprocess, sys\n"
            "def env():\n"
            "    child = subprocess.run([sys.executable, '-c', 'import os; print(os.environ.get(\"OPENAI_API_KEY\"))'],\n"
            "                           capture_output=True, text=True).stdout.strip()\n"
            "    return {k: os.environ.get(k) for k in ['OPENAI_API_KEY', 'SANDBOX_CONFIG_VAR', 'AGENT_VAR']} | {'child': child,\n"
            "            'home': os.environ['HOME']}\n"
        )
        result = await run(config, src, env={"AGENT_VAR": "from-agent"})
    finally:
        del os.environ["OPENAI_API_KEY"]
    assert result.status == "success", result
    ret = result.func_return
    assert ret["OPENAI_API_KEY"] is None and ret["child"] == "None"
    assert ret["SANDBOX_CONFIG_VAR"] == "from-config" and ret["AGENT_VAR"] == "from-agent"
    assert ret["home"] != os.environ.get("HOME")


async def test_fifty_concurrent_runs_all_succeed(local_config):
    config = dataclasses.replace(local_config, warm_pool_size=2)
    src = "def square(x: int) -> int:\n    return x * x\n"
    results: dict[int, object] = {}
    async with LocalSandbox(config) as sb:

        async def one(i: int) -> None:
            results[i] = await sb.run(SandboxRequest(source_code=src, args={"x": i}))

        with anyio.fail_after(45):
            async with anyio.create_task_group() as tg:
                for i in range(50):
                    tg.start_soon(one, i)
    assert all(results[i].status == "success" and results[i].func_return == i * i for i in range(50))


async def test_warm_runners_answer_and_leak_no_state_between_calls(local_config):
    config = dataclasses.replace(local_config, warm_pool_size=2)
    src = (
        "import sys\n"
        "COUNTER = []\n"
        "def count():\n"
        "    COUNTER.append(1)\n"
        "    seen = getattr(sys, '_agenthost_seen', 0)\n"
        "    sys._agenthost_seen = seen + 1\n"
        "    return [len(COUNTER), seen]\n"
    )
    async with LocalSandbox(config) as sb:
        pids = set()
        for _ in range(3):
            with anyio.fail_after(10):
                await sb.wait_warm()
            result = await sb.run(SandboxRequest(source_code=src))
            assert result.status == "success" and result.func_return == [1, 0]
            # in a PID namespace of its own every runner may be pid 2: the namespace tells them apart
            src_pid = "import os\ndef pid():\n    return f\"{os.readlink('/proc/self/ns/pid')}:{os.getpid()}\"\n"
            pid = await sb.run(SandboxRequest(source_code=src_pid))
            pids.add(pid.func_return)
        assert len(pids) == 3  # every call ran in a process of its own


async def test_a_job_larger_than_a_socket_buffer_arrives_whole_and_the_tool_reads_an_empty_stdin(local_config):
    # the job travels on the runner's result channel, which the server shuts after it: many reads, one job
    config = dataclasses.replace(local_config, warm_pool_size=1)
    src = "import sys\ndef size(blob: str) -> list:\n    return [len(blob), blob[-3:], sys.stdin.read()]\n"
    blob = "x" * 3_000_000 + "end"
    async with LocalSandbox(config) as sb:
        cold = await sb.run(SandboxRequest(source_code=src, args={"blob": blob}))
        with anyio.fail_after(20):
            await sb.wait_warm()
        warm = await sb.run(SandboxRequest(source_code=src, args={"blob": blob}))
    assert cold.status == warm.status == "success", (cold.error, warm.error)
    assert cold.func_return == warm.func_return == [len(blob), "end", ""]


async def test_run_outside_async_with_raises(local_config):
    from sandbox import SandboxClosedError

    with pytest.raises(SandboxClosedError):
        await LocalSandbox(local_config).run(SandboxRequest(source_code="def f():\n    return 1\n"))
