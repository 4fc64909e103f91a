"""The runner's boot and answer: a warm interpreter imports only what every call needs (a burst drains the
pool as fast as interpreters boot), the calls that need more import it themselves, and the answer is read at
its end rather than at the exit of the process that wrote it."""

import dataclasses
import zipfile
from pathlib import Path

import anyio
import pytest

from sandbox import AgentStateSnapshot, BlockSnapshot, LocalSandbox, SandboxRequest
from sandbox._runner import IDLE_PRELOAD_S
from sandbox._sitehooks import server_pth_files

pytestmark = pytest.mark.anyio

LOADED = (
    "import sys\n\n"
    "def loaded() -> list:\n"
    "    return [m for m in ('ast', 'inspect', 'traceback', 'typing', 'asyncio', 'pathlib', 'json', 're', 'enum')\n"
    "            if m in sys.modules]\n"
)


async def test_a_warm_interpreter_left_idle_has_imported_json_and_nothing_else_a_plain_call_does_not_need(
        local_config):
    # Its boot imports no json (a cold runner below, and every test here with no pool, shows it); once it has
    # waited for a job longer than a moment it imports json meanwhile, which most tools' imports need.
    config = dataclasses.replace(local_config, warm_pool_size=1)
    async with LocalSandbox(config) as sb:
        with anyio.fail_after(20):
            await sb.wait_warm()
        await anyio.sleep(IDLE_PRELOAD_S + 1.0)  # well past the runner's own wait, which began before wait_warm
        warm = await sb.run(SandboxRequest(source_code=LOADED, function_name="loaded"))
        stats = sb.pool_stats
    async with LocalSandbox(local_config) as sb:
        cold = await sb.run(SandboxRequest(source_code=LOADED, function_name="loaded"))
    assert stats is not None and stats.hits == 1  # the call ran in the interpreter booted ahead of it
    assert warm.status == "success" and warm.func_return == ["json", "re", "enum"]
    assert cold.status == "success" and cold.func_return == []


async def test_a_source_without_a_function_name_runs_its_last_function_and_the_runner_imports_no_parser(
        local_config):
    async with LocalSandbox(local_config) as sb:
        result = await sb.run(SandboxRequest(source_code=LOADED))
        broken = await sb.run(SandboxRequest(source_code="def broken(:\n    pass\n"))
        empty = await sb.run(SandboxRequest(source_code="x = 1\n"))
    assert result.status == "success" and result.func_return == []
    assert broken.status == "error" and broken.error is not None and broken.error.startswith("SyntaxError")
    assert empty.status == "error" and empty.error == "LookupError: the tool source defines no top-level function"


async def test_a_decorated_tool_that_declares_agent_state_still_gets_it(local_config):
    src = (
        "import functools\n\n"
        "def logged(func):\n"
        "    @functools.wraps(func)\n"
        "    def wrapper(*args, **kwargs):\n"
        "        return func(*args, **kwargs)\n"
        "    return wrapper\n\n"
        "@logged\n"
        "def read_human(agent_state) -> str:\n"
        "    return agent_state.memory.get_block('human').value\n"
    )
    state = AgentStateSnapshot(id="agent-1", name="a", blocks=[BlockSnapshot(label="human", value="Ada")])
    async with LocalSandbox(local_config) as sb:
        result = await sb.run(SandboxRequest(source_code=src, function_name="read_human", agent_state=state))
    assert result.status == "success" and result.func_return == "Ada"


async def test_a_callable_object_and_a_generator_based_coroutine_are_called_and_awaited(local_config):
    src = (
        "import types\n\n"
        "class Doubler:\n"
        "    def __call__(self, x: int, agent_state=None) -> int:\n"
        "        return 2 * x + (100 if agent_state is not None else 0)\n\n"
        "double = Doubler()\n\n"
        "@types.coroutine\n"
        "def _seven():\n"
        "    if False:\n"
        "        yield\n"
        "    return 7\n\n"
        "def seven():\n"
        "    return _seven()\n"
    )
    state = AgentStateSnapshot(id="agent-1", name="a", blocks=[])
    async with LocalSandbox(local_config) as sb:
        doubled = await sb.run(SandboxRequest(source_code=src, function_name="double", args={"x": 4},
                                              agent_state=state))
        seven = await sb.run(SandboxRequest(source_code=src, function_name="seven"))
    assert doubled.status == "success" and doubled.func_return == 108
    assert seven.status == "success" and seven.func_return == 7


async def test_arguments_and_answers_keep_every_json_value_exactly_without_the_json_module(local_config):
    # The runner decodes and encodes with json's C engine (no ``import json`` at boot): what the tool receives and
    # returns is what json.loads / json.dumps would give, and a value JSON cannot carry comes back as its str().
    src = (
        "import sys\n\n"
        "def echo(s: str, n: int, f: float, nested: list) -> dict:\n"
        "    return {'s': s, 'n': n, 'f': repr(f), 'nested': nested, 'json': 'json' in sys.modules,\n"
        "            'types': [type(x).__name__ for x in nested]}\n\n"
        "def odd(which: str):\n"
        "    return {'nan': float('nan'), 'set': {1}, 'bytes': b'x'}[which]\n"
    )
    args = {"s": "é\u2028\x00🙂\"\\", "n": 10**30, "f": 1e-300, "nested": [None, True, -0.0, {"k": [1.5]}, "x"]}
    async with LocalSandbox(local_config) as sb:
        echoed = await sb.run(SandboxRequest(source_code=src, function_name="echo", args=args))
        odd = [await sb.run(SandboxRequest(source_code=src, function_name="odd", args={"which": w}))
               for w in ("nan", "set", "bytes")]
    assert echoed.status == "success", echoed.error
    assert echoed.func_return == {"s": args["s"], "n": 10**30, "f": "1e-300", "nested": args["nested"],
                                  "json": False, "types": ["NoneType", "bool", "float", "dict", "str"]}
    assert [r.func_return for r in odd] == ["nan", "{1}", "b'x'"]


async def test_a_return_value_and_output_with_newlines_come_back_whole(local_config):
    src = "def lines() -> dict:\n    print('one\\ntwo')\n    return {'text': 'a\\nb\\n', 'k\\ney': ['\\n']}\n"
    async with LocalSandbox(local_config) as sb:
        result = await sb.run(SandboxRequest(source_code=src))
    assert result.status == "success"
    assert result.func_return == {"text": "a\nb\n", "k\ney": ["\n"]}
    assert result.stdout == ["one\ntwo\n"]


async def test_the_answer_is_read_at_its_end_even_if_the_runner_never_closes_its_channel(local_config):
    # The tool makes the runner keep its result channel open and never exit after answering: the answer
    # still arrives (its newline ends it), and the tree is killed as usual.
    src = (
        "import os, time\n\n"
        "def stubborn() -> str:\n"
        "    os.close = lambda fd: None\n"
        "    os._exit = lambda code: time.sleep(3600)\n"
        "    return 'answered'\n"
    )
    config = dataclasses.replace(local_config, timeout_s=15)
    async with LocalSandbox(config) as sb:
        result = await sb.run(SandboxRequest(source_code=src))
        with anyio.fail_after(10):
            await sb.quiesce()
    assert result.status == "success" and result.func_return == "answered"


async def _cold_and_warm(local_config, src: str):
    """``src`` run once by an interpreter started for the call, then once by one booted ahead of it."""
    config = dataclasses.replace(local_config, warm_pool_size=1)
    async with LocalSandbox(config) as sb:
        cold = await sb.run(SandboxRequest(source_code=src))
        with anyio.fail_after(20):
            await sb.wait_warm()
        return cold, await sb.run(SandboxRequest(source_code=src))


async def test_runners_start_from_the_runner_compiled_once_not_from_its_source(local_config):
    src = "import sys\n\ndef script() -> str:\n    return sys.argv[0]\n"
    cold, warm = await _cold_and_warm(local_config, src)
    assert cold.status == warm.status == "success"
    assert cold.func_return.endswith(".pyc") and warm.func_return.endswith(".pyc")


def _wheel_with_site_hooks(directory: Path) -> Path:
    """A wheel whose ``.pth`` file has a path line (a directory beside it) and an import line (run at start-up)."""
    path = directory / "hookpkg-0.1-py3-none-any.whl"
    info = "hookpkg-0.1.dist-info"
    with zipfile.ZipFile(path, "w") as whl:
        whl.writestr("hookpkg_extra/hooked_module.py", "VALUE = 'from a path line'\n")
        whl.writestr("hookpkg.pth", "hookpkg_extra\nimport os; os.environ['HOOKPKG_PTH'] = 'ran'\n")
        whl.writestr(f"{info}/METADATA", "Metadata-Version: 2.1\nName: hookpkg\nVersion: 0.1\n")
        whl.writestr(f"{info}/WHEEL", "Wheel-Version: 1.0\nGenerator: test\nRoot-Is-Purelib: true\nTag: py3-none-any\n")
        whl.writestr(f"{info}/RECORD", "")
    return path


async def test_site_runs_in_the_runner_with_a_venvs_prefix_and_its_pth_path_and_import_lines(local_config, tmp_path):
    src = (
        "import builtins, os, sys\n\n"
        "def probe() -> list:\n"
        "    import hooked_module\n"
        "    return [sys.prefix, os.environ.get('HOOKPKG_PTH'), hooked_module.VALUE, callable(builtins.exit)]\n"
    )
    wheel = _wheel_with_site_hooks(tmp_path)
    async with LocalSandbox(local_config) as sb:
        result = await sb.run(SandboxRequest(source_code=src, pip_requirements=[str(wheel)]))
    assert result.status == "success", result
    prefix, hook, value, has_exit = result.func_return
    assert prefix.startswith(str(local_config.venv_cache_dir))  # site's venv handling: the tool venv's prefix
    assert (hook, value, has_exit) == ("ran", "from a path line", True)


@pytest.mark.skipif(not server_pth_files(), reason="a regular install of the server has no site hook of its own")
async def test_the_servers_own_editable_install_hook_is_not_loaded_by_tool_interpreters(local_config):
    src = (
        "import sys\n\n"
        "def hooks() -> list:\n"
        "    return [m for m in sys.modules if m.startswith('__editable__')] + "
        "[p for p in sys.path if '__editable__' in p]\n"
    )
    cold, warm = await _cold_and_warm(local_config, src)
    assert cold.status == warm.status == "success"
    assert cold.func_return == warm.func_return == []
