"""run_code through the real e2b-code-interpreter SDK against the loopback fake of E2B."""

from __future__ import annotations

import json

import pytest

from builtin_tools import CoreMemory, ServicesConfig, ToolContext, get_builtin
from tests.support.fake_e2b import running_fake_e2b


class _NoPorts:
    async def insert(self, text, tags):  # pragma: no cover - never reached
        raise AssertionError

    async def search(self, *args):  # pragma: no cover - never reached
        raise AssertionError


def _ctx(url: str | None, env: dict[str, str]) -> ToolContext:
    return ToolContext(
        "agent-1", "sam", CoreMemory(), _NoPorts(), _NoPorts(), env=env,
        services=ServicesConfig(e2b_api_url=url, e2b_sandbox_url=url, http_timeout_s=10, code_timeout_s=20),
    )


@pytest.mark.anyio
async def test_stdout_and_stderr_come_back_and_the_sandbox_is_killed() -> None:
    async with running_fake_e2b() as fake:
        code = "import sys\nprint(6 * 7)\nprint('careful', file=sys.stderr)"
        out = await get_builtin("run_code").run({"code": code, "language": "python"}, _ctx(fake.url, {"E2B_API_KEY": "e2b-key"}))
        assert out.status == "success", out.text
        payload = json.loads(out.text)
        assert payload["logs"] == {"stdout": ["42\n"], "stderr": ["careful\n"]}
        assert "error" not in payload
        assert fake.api_keys == ["e2b-key"]
        assert [c["id"] for c in fake.created] == fake.killed
        assert fake.executions[0]["language"] == "python"


@pytest.mark.anyio
async def test_an_exception_in_the_code_reports_name_value_and_traceback() -> None:
    async with running_fake_e2b() as fake:
        out = await get_builtin("run_code").run(
            {"code": "raise ValueError('bad input')", "language": "python"}, _ctx(fake.url, {"E2B_API_KEY": "k"})
        )
        assert out.status == "error"
        assert out.text.startswith("The code raised ValueError: bad input")
        payload = json.loads(out.text.split("\n", 1)[1])
        assert payload["error"]["name"] == "ValueError"
        assert "Traceback" in payload["error"]["traceback"]
        assert len(fake.killed) == 1


@pytest.mark.anyio
async def test_missing_key_gives_a_clear_message() -> None:
    out = await get_builtin("run_code").run({"code": "print(1)", "language": "python"}, _ctx(None, {}))
    assert out.status == "error" and "E2B_API_KEY" in out.text and "not configured" in out.text


@pytest.mark.anyio
async def test_unreachable_e2b_is_an_error_output() -> None:
    out = await get_builtin("run_code").run(
        {"code": "print(1)", "language": "python"}, _ctx("http://127.0.0.1:9", {"E2B_API_KEY": "k"})
    )
    assert out.status == "error" and out.text.startswith("run_code failed")
