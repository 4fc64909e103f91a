"""``agenthost tools run FILE.py --args '{...}'``: run a tool file in the local sandbox, without a server.

Prints the same ``tool_return_message`` JSON as ``POST /v1/tools/run`` on stdout; exits 0 when the tool
succeeded, 1 when it failed (exception, timeout, missing package), 2 on a bad command line.
The sandbox is the settings' local one (``TOOL_EXEC_DIR``/``TOOL_EXEC_VENV_NAME``, venv cache under
``LETTA_DIR``); stored sandbox configs and E2B are not used. Installing ``--pip`` packages (once per set:
the venv is cached) shows its progress on stderr (``host.cli_progress``).
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from pathlib import Path
from typing import Any

import anyio

from host.settings import Settings

logger = logging.getLogger(__name__)


class _UsageError(Exception):
    pass


def _parse(args: argparse.Namespace) -> tuple[str, dict[str, Any], dict[str, str]]:
    path = Path(args.file)
    try:
        source = path.read_text()
    except OSError as exc:
        raise _UsageError(f"cannot read {path}: {exc.strerror}") from None
    try:
        call_args = json.loads(args.args)
    except json.JSONDecodeError as exc:
        raise _UsageError(f"--args is not valid JSON ({exc}); pass an object such as '{{\"x\": 1}}'") from None
    if not isinstance(call_args, dict):
        raise _UsageError("--args must be a JSON object, such as '{\"x\": 1}'")
    env: dict[str, str] = {}
    for item in args.env:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise _UsageError(f"--env {item!r} must look like KEY=VALUE")
        env[key] = value
    return source, call_args, env


async def _run(settings: Settings, source: str, name: str, call_args: dict[str, Any], env: dict[str, str],
               pip: list[str], timeout: float | None) -> dict[str, Any]:
    from host.services.sandbox_configs import settings_local_config
    from host.tools.sources.custom import SandboxPlan, SandboxRouter, tool_return_message

    overrides: dict[str, Any] = {"warm_pool_size": 0}
    if timeout is not None:
        overrides["timeout_s"] = timeout
    async with SandboxRouter() as router:
        await router.apply(SandboxPlan(local=settings_local_config(settings, **overrides)))
        result = await router.run_source(source_code=source, function_name=name, args=call_args, env=env,
                                         pip_requirements=pip, timeout_s=timeout)
    return tool_return_message(result, name)


def run_tool_file(args: argparse.Namespace, settings: Settings) -> int:
    from host.tools.sources.custom import function_name_for

    try:
        source, call_args, env = _parse(args)
    except _UsageError as exc:
        sys.stderr.write(f"agenthost tools run: {exc}\n")
        return 2
    if args.timeout is not None and args.timeout <= 0:
        sys.stderr.write("agenthost tools run: --timeout must be a positive number of seconds\n")
        return 2
    name = function_name_for(source, args.name)
    from host.cli_progress import show_progress

    label = f"installing {', '.join(args.pip)} into a cached venv" if args.pip else "preparing the sandbox"
    with show_progress(label):
        message = anyio.run(_run, settings, source, name, call_args, env, list(args.pip), args.timeout)
    sys.stdout.write(json.dumps(message, indent=2, ensure_ascii=False) + "\n")
    sys.stdout.flush()
    return 0 if message["status"] == "success" else 1
