"""Letta's ``run_code`` tool through E2B's code interpreter (``AsyncSandbox``).

One sandbox per call: created with ``E2B_API_KEY`` from ``ctx.env`` and the API /
sandbox URLs from ``ctx.services``, the code run in the requested language, the sandbox
killed in a shielded ``finally``. Results, stdout/stderr and the error (name, value,
traceback) go back to the model as JSON.
"""

from __future__ import annotations

import json
import logging
from typing import TYPE_CHECKING, Any

import anyio

if TYPE_CHECKING:  # the E2B SDK takes ~0.25 s to import: load it on first use, off the start-up path
    from e2b_code_interpreter import AsyncSandbox, Execution

from builtin_tools.ports import ToolContext
from builtin_tools.schemas import BuiltinTool, ToolOutput, make_schema

logger = logging.getLogger(__name__)

E2B_KEY_VAR = "E2B_API_KEY"
LANGUAGES = ("python", "js", "ts", "r", "java")
_CREATE_SLACK_S = 30.0
_KILL_TIMEOUT_S = 10.0
_RESULT_CHARS = 20_000

NO_KEY_MESSAGE = (
    "run_code is not configured: no E2B_API_KEY is set for this agent or server. "
    "Tell the user code execution is unavailable (an administrator can set E2B_API_KEY); "
    "reason about the code instead of running it."
)


def _clip(text: str) -> str:
    return text if len(text) <= _RESULT_CHARS else text[:_RESULT_CHARS] + f"… [{len(text) - _RESULT_CHARS} more characters]"


def format_execution(execution: Execution) -> dict[str, Any]:
    """The parts of an E2B execution a model can use, as plain JSON values."""
    results = []
    for result in execution.results:
        item: dict[str, Any] = {}
        if result.text is not None:
            item["text"] = _clip(result.text)
        if result.json is not None:
            item["json"] = result.json
        formats = [f for f in result.formats() if f not in ("text", "json")]
        if formats:
            item["other_formats"] = formats
        results.append(item)
    out: dict[str, Any] = {
        "results": results,
        "logs": {
            "stdout": [_clip(line) for line in execution.logs.stdout],
            "stderr": [_clip(line) for line in execution.logs.stderr],
        },
    }
    if execution.error is not None:
        out["error"] = {
            "name": execution.error.name,
            "value": execution.error.value,
            "traceback": _clip(execution.error.traceback),
        }
    return out


async def _run_code(args: dict[str, Any], ctx: ToolContext) -> ToolOutput:
    key = ctx.env.get(E2B_KEY_VAR, "").strip()
    if not key:
        return ToolOutput.error(NO_KEY_MESSAGE)
    import httpx
    from e2b.exceptions import AuthenticationException, RateLimitException, SandboxException, ServiceBusyException
    from e2b_code_interpreter import AsyncSandbox
    code: str = args["code"]
    language: str = args["language"]
    services = ctx.services
    code_timeout = services.code_timeout_s
    opts: dict[str, Any] = {"api_key": key, "request_timeout": services.http_timeout_s}
    if services.e2b_api_url:
        opts["api_url"] = services.e2b_api_url
    if services.e2b_sandbox_url:
        opts["sandbox_url"] = services.e2b_sandbox_url
    sandbox: AsyncSandbox | None = None
    try:
        with anyio.fail_after(code_timeout + services.http_timeout_s + _CREATE_SLACK_S):
            sandbox = await AsyncSandbox.create(
                template=services.e2b_template, timeout=int(code_timeout + _CREATE_SLACK_S), **opts
            )
            execution = await sandbox.run_code(code, language=language, timeout=code_timeout)
    except AuthenticationException:
        return ToolOutput.error("run_code failed: the configured E2B_API_KEY was rejected (invalid key).")
    except (RateLimitException, ServiceBusyException):
        return ToolOutput.error("run_code failed: the code sandbox service is busy or rate-limited; try again later.")
    except TimeoutError:
        return ToolOutput.error(
            f"run_code timed out: the code did not finish within {code_timeout:g} seconds. "
            "Make it faster or split it into smaller steps."
        )
    except SandboxException as err:
        if "timeout" in type(err).__name__.lower() or "timed out" in str(err).lower():
            return ToolOutput.error(
                f"run_code timed out: the code did not finish within {code_timeout:g} seconds ({err})."
            )
        logger.warning("run_code sandbox failure for agent %s: %s", ctx.agent_id, err)
        return ToolOutput.error(f"run_code failed: the code sandbox reported an error ({type(err).__name__}: {err}).")
    except httpx.HTTPError as err:
        logger.warning("run_code transport failure for agent %s: %s", ctx.agent_id, err)
        return ToolOutput.error(f"run_code failed: the code sandbox could not be reached ({type(err).__name__}).")
    finally:
        if sandbox is not None:
            await _kill(sandbox)
    payload = format_execution(execution)
    text = json.dumps(payload, ensure_ascii=False, indent=1)
    if execution.error is not None:
        return ToolOutput.error(f"The code raised {execution.error.name}: {execution.error.value}\n{text}")
    return ToolOutput.success(text)


async def _kill(sandbox: AsyncSandbox) -> None:
    import httpx
    from e2b.exceptions import SandboxException

    with anyio.CancelScope(shield=True), anyio.move_on_after(_KILL_TIMEOUT_S):
        try:
            await sandbox.kill()
        except (SandboxException, httpx.HTTPError) as err:
            logger.warning("could not kill E2B sandbox %s: %s", sandbox.sandbox_id, err)


RUN_CODE_DESCRIPTION = "Run code in a sandbox. Supports Python, Javascript, Typescript, R, and Java."

RUN_CODE_TOOL = BuiltinTool(
    name="run_code",
    tool_type="letta_builtin",
    tags=("letta_builtin",),
    description=RUN_CODE_DESCRIPTION,
    json_schema=make_schema(
        "run_code",
        RUN_CODE_DESCRIPTION,
        {
            "code": {"type": "string", "description": "The code to run."},
            "language": {"type": "string", "enum": list(LANGUAGES), "description": "The language of the code."},
        },
        ["code", "language"],
    ),
    impl=_run_code,
)
