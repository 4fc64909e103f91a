"""POST /v1/tools/run against the session server: Letta's tool_return_message, failures as data, env rules."""

from __future__ import annotations

import json
import textwrap
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx

RECORDED = Path("/work/shared/reference/letta-0.8.17/responses/tool_run_from_source__01_POST_v1_tools_run.json")

ROLL_DICE = textwrap.dedent('''
    def roll_dice(num_sides: int) -> str:
        """Roll a die.

        Args:
            num_sides (int): number of sides on the die

        Returns:
            str: the result of the roll
        """
        import random
        return f"rolled {random.randint(1, num_sides)} of {num_sides}"
''')

Run = Callable[..., dict[str, Any]]


def test_success_has_the_recorded_letta_shape(run: Run) -> None:
    out = run(ROLL_DICE, {"num_sides": 6})
    if RECORDED.exists():
        recorded = json.loads(RECORDED.read_text())["response"]["body"]
        assert set(out) == set(recorded)
    assert out["message_type"] == "tool_return_message"
    assert out["status"] == "success"
    assert out["id"] == out["tool_call_id"] == "null"
    assert out["tool_return"].startswith("rolled ") and out["tool_return"].endswith(" of 6")
    assert out["stdout"] == [] and out["stderr"] == []


def test_prints_are_captured_and_the_named_function_is_called(run: Run) -> None:
    src = "def helper():\n    return 'helper'\n\ndef main(x: int):\n    print('out', x)\n    return x * 2\n"
    out = run(src, {}, name="helper")
    assert out["tool_return"] == "helper"
    out = run(src, {"x": 21})
    assert out["tool_return"] == "42" and out["stdout"] == ["out 21\n"]


def test_an_exception_is_an_error_with_its_traceback_in_stderr(run: Run) -> None:
    out = run("def boom(n: int):\n    return n / 0\n", {"n": 1})
    assert out["status"] == "error"
    assert out["tool_return"] == "Error executing function boom: ZeroDivisionError: division by zero"
    assert "Traceback" in out["stderr"][0] and "ZeroDivisionError" in out["stderr"][0]


def test_a_syntax_error_is_an_error_not_a_500(run: Run) -> None:
    out = run("def broken(:\n    pass\n", {})
    assert out["status"] == "error"
    assert "SyntaxError" in out["tool_return"] and "SyntaxError" in "".join(out["stderr"])


def test_bad_arguments_are_an_error(run: Run) -> None:
    out = run("def f(a: int):\n    return a\n", {"b": 1})
    assert out["status"] == "error" and "TypeError" in out["tool_return"]


def test_a_non_json_return_value_becomes_its_string(run: Run) -> None:
    out = run("class Thing:\n    def __str__(self):\n        return 'a thing'\n\ndef make():\n    return Thing()\n", {})
    assert out["status"] == "success" and out["tool_return"] == "a thing"
    out = run("def d():\n    return {'a': [1, 2]}\n", {})
    assert out["tool_return"] == "{'a': [1, 2]}"  # Letta's str() of the value


def test_an_async_tool_is_awaited(run: Run) -> None:
    src = "import asyncio\n\nasync def later(x: str) -> str:\n    await asyncio.sleep(0.01)\n    return x.upper()\n"
    assert run(src, {"x": "ok"})["tool_return"] == "OK"


def test_a_missing_module_is_an_error_that_names_pip_requirements(run: Run) -> None:
    out = run("def f():\n    import agenthost_no_such_module\n    return 1\n", {})
    assert out["status"] == "error"
    assert "ModuleNotFoundError" in out["tool_return"] and "pip_requirements" in out["tool_return"]


def test_a_pip_requirement_that_cannot_install_is_an_error(run: Run, tmp_path: Path) -> None:
    missing = tmp_path / "no-such-package"
    out = run("def f():\n    return 1\n", {},
              pip_requirements=[{"name": f"agenthost-missing @ file://{missing}"}])
    assert out["status"] == "error"
    assert "pip_requirements" in out["tool_return"]


def test_env_vars_are_visible_and_server_secrets_are_not(run: Run) -> None:
    src = "import os\n\ndef env() -> str:\n    return ','.join(f'{k}={os.environ.get(k)}' for k in ('MY_VAR', 'OPENAI_API_KEY', 'LETTA_DIR'))\n"
    out = run(src, {}, env_vars={"MY_VAR": "hello"})
    # The server runs with OPENAI_API_KEY=sk-test-scripted and LETTA_DIR set.
    assert out["tool_return"] == "MY_VAR=hello,OPENAI_API_KEY=None,LETTA_DIR=None"


def test_unknown_request_fields_are_rejected(http: httpx.Client) -> None:
    resp = http.post("/v1/tools/run", json={"source_code": "def f():\n    return 1\n", "args": {}, "bogus": 1})
    assert resp.status_code == 422


def test_fifty_concurrent_runs_all_succeed(http: httpx.Client) -> None:
    src = "def echo(i: int) -> int:\n    return i\n"

    def one(i: int) -> dict[str, Any]:
        resp = http.post("/v1/tools/run", json={"source_code": src, "args": {"i": i}})
        assert resp.status_code == 200, resp.text
        return resp.json()

    with ThreadPoolExecutor(max_workers=50) as pool:
        results = list(pool.map(one, range(50)))
    assert [r["status"] for r in results] == ["success"] * 50
    assert [r["tool_return"] for r in results] == [str(i) for i in range(50)]
