"""Letta Code 0.25.9 (npm), a real 1.x client no one here wrote, headless against the server.

    LETTA_BASE_URL=<server> LETTA_API_KEY=x letta -p "..." --model <handle> --output-format json

Runs through a logging proxy (``route_log.py``) so the routes it calls, in order, are recorded in
``letta_code_0.25.9_routes.txt`` beside this file. Skipped when the package is not installed (``npm ci``
in tests/letta_code; ``.ci/run`` does it).
"""

from __future__ import annotations

import json
import os
import re
import subprocess
from pathlib import Path
from typing import Any

import pytest

from tests.letta_code.route_log import RouteLog

HERE = Path(__file__).parent
LETTA = HERE / "node_modules" / ".bin" / "letta"
ROUTES = HERE / "letta_code_0.25.9_routes.txt"
pytestmark = pytest.mark.skipif(not LETTA.exists(), reason="Letta Code is not installed (npm ci in tests/letta_code)")


HEADER = ("# Letta Code 0.25.9 headless against agenthost with the scripted model, through a logging proxy\n"
          "# (tests/letta_code/test_letta_code.py; AGENTHOST_RECORD_ROUTES=1 rewrites this file). One line per\n"
          "# request, in order: METHOD path?query -> status, user agent; ids replaced by <agent> <conv> <message>.")
_IDS = re.compile(r"\b(agent|conv|message|run|tool)-[0-9a-f]{8}-[0-9a-f-]{27}\b")


def normalized(line: str) -> str:
    return _IDS.sub(lambda m: f"<{m.group(1)}>", line)


def letta(base_url: str, home: Path, prompt: str, model: str) -> tuple[subprocess.CompletedProcess[str], Any]:
    env = {k: v for k, v in os.environ.items() if k in ("PATH", "LANG", "TERM")}
    env.update({"HOME": str(home), "LETTA_BASE_URL": base_url, "LETTA_API_KEY": "x", "NO_COLOR": "1"})
    done = subprocess.run([str(LETTA), "-p", prompt, "--model", model, "--output-format", "json"], env=env,
                          cwd=home, capture_output=True, text=True, timeout=240, stdin=subprocess.DEVNULL)
    try:
        out = json.loads(done.stdout) if done.stdout.strip() else None
    except json.JSONDecodeError:
        out = None
    return done, out


def test_letta_code_completes_a_prompt_and_one_that_runs_its_own_bash_tool(server, scripted_llm, tmp_path):
    model = "lettacode"
    handle = f"openai-proxy/{model}"
    home = tmp_path / "home"
    home.mkdir()
    queue = scripted_llm.for_model(model)
    with RouteLog(server.base_url) as proxy:
        queue.push_text("hello from agenthost")
        first, out = letta(proxy.url, home, "hello from letta code", handle)
        lines = ["### letta -p 'hello from letta code'", *proxy.lines, f"### -> rc={first.returncode}"]
        assert first.returncode == 0, f"{first.stdout[-3000:]}\n{first.stderr[-3000:]}"
        assert out is not None and "hello from agenthost" in json.dumps(out), \
            f"{first.stdout[-3000:]}\n{first.stderr[-3000:]}\n" + "\n".join(proxy.lines)
        seen = len(proxy.lines)
        # Letta Code offers its shell tool by the name of the toolset it picked for the model (Bash, ShellCommand...)
        offered = [t["function"]["name"] for t in scripted_llm.requests_for(model)[-1].get("tools") or []]
        shell = next(n for n in ("Bash", "ShellCommand", "shell_command", "Shell") if n in offered)
        queue.push_tool_call(shell, {"command": "echo hi-from-bash", **({"description": "say hi"} if shell == "Bash"
                                                                        else {})})
        queue.push_text("the tool said hi-from-bash")
        second, out2 = letta(proxy.url, home, "run echo", handle)
        lines += [f"### letta -p 'run echo' (the model calls Letta Code's client-side tool {shell})", *proxy.lines[seen:],
                  f"### -> rc={second.returncode}"]
        recorded = [normalized(line) for line in lines]
        if os.environ.get("AGENTHOST_RECORD_ROUTES") == "1":
            ROUTES.write_text("\n".join([HEADER, *recorded]) + "\n")
        else:  # the same routes as recorded (order aside: Letta Code makes some calls concurrently)
            kept = [x for x in ROUTES.read_text().splitlines() if x and not x.startswith("#")]
            assert sorted(set(r for r in recorded if not r.startswith("#"))) == sorted(set(kept))
        assert second.returncode == 0, f"{second.stdout[-3000:]}\n{second.stderr[-3000:]}"
        assert "the tool said hi-from-bash" in json.dumps(out2)
    model_requests = scripted_llm.requests_for(model)
    assert any(m.get("role") == "tool" and "hi-from-bash" in str(m.get("content"))
               for m in model_requests[-1]["messages"]), \
        json.dumps([[t["function"]["name"] for t in r.get("tools") or []] for r in model_requests])[:3000] + \
        json.dumps(model_requests[-1]["messages"][-4:])[:3000] + second.stdout[-2000:]
    # (Letta Code ran Bash locally and sent back its output)
