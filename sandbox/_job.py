"""Turning a request into code for a remote Python kernel (E2B), and reading the answer back.

Safety rule: arguments, environment and agent state are never spliced into the
code as Python source.  The whole job is serialised with ``json.dumps``; that
JSON text is embedded exactly once as a string literal produced by
``json.dumps`` again (JSON string syntax is a subset of Python's, and the
ASCII-only output contains no quote or backslash that could end the literal),
and the kernel calls ``json.loads`` on it.  The runner module's own source is
embedded the same way and ``exec``ed in a private namespace.
"""

from __future__ import annotations

import json
import secrets
from typing import Any

from ._confine import RUNNER_PATH

_MAIN_GUARD = 'if __name__ == "__main__":'


def _runner_source() -> str:
    source = RUNNER_PATH.read_text()
    return source.split(_MAIN_GUARD, 1)[0]


def new_marker() -> str:
    return f"__agenthost_result_{secrets.token_hex(8)}__"


def build_remote_code(job: dict[str, Any], marker: str) -> str:
    job_literal = json.dumps(json.dumps(job))
    return "\n".join(
        [
            "import json as _ah_json",
            '_ah_ns = {"__name__": "agenthost_runner"}',
            f"exec(compile({json.dumps(_runner_source())}, '<agenthost-runner>', 'exec'), _ah_ns)",
            f"_ah_result = _ah_ns['run_job'](_ah_json.loads({job_literal}))",
            "_ah_result.pop('traceback', None)",
            f"print({json.dumps(marker)} + _ah_json.dumps(_ah_result), flush=True)",
            "del _ah_ns, _ah_result",
        ]
    )


def build_pip_code(requirements: list[str]) -> str:
    literal = json.dumps(json.dumps(requirements))
    return "\n".join(
        [
            "import json as _ah_json, subprocess as _ah_sp, sys as _ah_sys",
            f"_ah_cmd = [_ah_sys.executable, '-m', 'pip', 'install', '--no-input', '-q', *_ah_json.loads({literal})]",
            "_ah_proc = _ah_sp.run(_ah_cmd, capture_output=True, text=True)",
            "print(_ah_proc.stdout[-4000:]); print(_ah_proc.stderr[-4000:], file=_ah_sys.stderr)",
            "if _ah_proc.returncode: raise RuntimeError(f'pip install failed with exit code {_ah_proc.returncode}')",
        ]
    )


def split_result(stdout: str, marker: str) -> tuple[dict[str, Any] | None, str]:
    """Find the marked result line; return it and the tool's own stdout without it."""
    index = stdout.rfind(marker)
    if index < 0:
        return None, stdout
    end = stdout.find("\n", index)
    line = stdout[index + len(marker) : end if end >= 0 else len(stdout)]
    rest = stdout[:index] + (stdout[end + 1 :] if end >= 0 else "")
    try:
        return json.loads(line), rest
    except ValueError:
        return None, stdout


def bound(text: str, limit: int) -> str:
    data = text.encode("utf-8", errors="replace")
    if len(data) <= limit:
        return text
    return data[:limit].decode("utf-8", errors="ignore") + f"\n[truncated {len(data) - limit} bytes]"
