"""The README's examples, run as a newcomer would run them, against a real server with the scripted model.

Convention for README code blocks (the fence's info string: the language, then optional words; GitHub
highlights by the first word and ignores the rest):

    ```sh / ```bash            run, in README order, in ONE bash session (`set -euo pipefail`), so a variable
                               set in one block (AGENT_ID=...) is seen by the later ones
    ```python                  run in that same order with the project's interpreter (`python - <<EOF`)
    ```<any> file=NAME         not run: written to NAME in the working directory, for later blocks to use
                               (a tool file, a JSON body for `curl -d @NAME`, a document to upload)
    ```sh skip / python skip   shown, never run: installing, starting a server (the test starts one), anything
                               that needs the network, Node/npx, another server or real keys. Say why in the
                               README text when it is not obvious.
    ```json                    not run, but must parse as JSON (with file=NAME too)
    anything else              (text, mermaid, markdown without file=) ignored

The test's environment: the working directory is a scratch directory in which `.venv` is the project's venv
(so `. .venv/bin/activate`, `.venv/bin/agenthost` and `$PWD/.venv/bin/agenthost` work as in a clone); the
server was started with `agenthost serve` on a free port, and every `http://127.0.0.1:8283` or
`localhost:8283` in a block is rewritten to it; the model (`openai/gpt-4o-mini`) and embeddings
(`openai/text-embedding-3-small`) are the scripted OpenAI-compatible server, which echoes the user's message
through `send_message`; `curl` fails on an HTTP error status (`--fail-with-body`), so an example that gets
a 4xx or 5xx fails the test, with the README line of the block that failed.
A new section's examples must run after the ones above it (or not depend on them).
"""

from __future__ import annotations

import json
import re
import shlex
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.conftest import test_database_uri as fresh_database_uri
from tests.support.scripted_llm import ScriptedLLM
from tests.support.server import ServerProcess, server_env

REPO = Path(__file__).resolve().parents[1]
README = REPO / "README.md"
FENCE = re.compile(r"^```([^\n`]*)\n(.*?)^```[ \t]*$", re.M | re.S)
SHELLS = ("sh", "bash", "shell")
ADDRESSES = ("http://127.0.0.1:8283", "http://localhost:8283", "localhost:8283", "127.0.0.1:8283")


@dataclass(frozen=True)
class Block:
    line: int
    lang: str
    words: tuple[str, ...]
    body: str

    @property
    def file(self) -> str | None:
        return next((w.removeprefix("file=") for w in self.words if w.startswith("file=")), None)

    @property
    def skipped(self) -> bool:
        return "skip" in self.words

    @property
    def runs(self) -> bool:
        return not self.skipped and self.file is None and self.lang in (*SHELLS, "python")


def readme_blocks(text: str | None = None) -> list[Block]:
    text = README.read_text() if text is None else text
    out = []
    for match in FENCE.finditer(text):
        info = match.group(1).split()
        out.append(Block(text.count("\n", 0, match.start()) + 1, info[0] if info else "", tuple(info[1:]),
                         match.group(2)))
    return out


def script_for(blocks: list[Block], base_url: str, python: str) -> str:
    lines = ["set -euo pipefail",
             'curl() { command curl --fail-with-body "$@"; }  # an HTTP error status fails the example']
    for number, block in enumerate(blocks):
        body = block.body
        for address in ADDRESSES:
            body = body.replace(address, base_url)
        if block.file is not None:
            lines.append(f"cat > {shlex.quote(block.file)} <<'README_FILE_EOF'\n{body}README_FILE_EOF")
        elif block.runs:
            lines.append(f"echo '### README line {block.line}' >&2")
            if block.lang == "python":
                lines.append(f"{shlex.quote(python)} - <<'README_PY_EOF'\n{body}README_PY_EOF")
            else:
                lines.append(body)
            lines.append(f"echo '### block {number} done' >&2")
    return "\n".join(lines) + "\n"


def test_the_convention_reads_fences_as_documented() -> None:
    text = ("```sh\necho a\n```\n\n```sh skip\nrm -rf /\n```\n\n```python file=t.py\nx = 1\n```\n\n"
            "```json\n{}\n```\n\n```mermaid\nflowchart TD\n```\n\n```\nplain\n```\n")
    blocks = readme_blocks(text)
    assert [(b.lang, b.runs, b.file, b.skipped) for b in blocks] == [
        ("sh", True, None, False), ("sh", False, None, True), ("python", False, "t.py", False),
        ("json", False, None, False), ("mermaid", False, None, False), ("", False, None, False)]
    script = script_for(blocks, "http://127.0.0.1:1", "py")
    assert "echo a" in script and "rm -rf" not in script and "cat > t.py" in script


def test_every_json_block_parses() -> None:
    blocks = [b for b in readme_blocks() if b.lang == "json"]
    assert blocks, "the README has JSON examples"
    for block in blocks:
        try:
            json.loads(block.body)
        except ValueError as exc:
            pytest.fail(f"README line {block.line}: the JSON example does not parse: {exc}")


def test_no_shell_example_has_a_placeholder_the_shell_would_misread() -> None:
    for block in readme_blocks():
        if block.lang in SHELLS:
            found = re.findall(r"<[A-Za-z][\w-]*>", block.body)
            assert not found, f"README line {block.line}: {found} (use a shell variable, e.g. $AGENT_ID)"


def test_the_readme_examples_run_as_written(tmp_path: Path) -> None:
    blocks = readme_blocks()
    runnable = [b for b in blocks if b.runs]
    assert len(runnable) >= 8, "the README's runnable examples were not found"
    work = tmp_path / "clone"
    work.mkdir()
    (work / ".venv").symlink_to(REPO / ".venv")
    home = tmp_path / "letta"
    with ScriptedLLM() as llm:
        env = server_env(home, llm.base_url, pg_uri=fresh_database_uri())
        with ServerProcess(home=home, env=env) as server:
            script = script_for(blocks, server.base_url, sys.executable)
            run_env = {**env, "PYTHONPATH": str(REPO), "HOME": str(tmp_path)}
            proc = subprocess.run(["bash", "-c", script], cwd=work, env=run_env, capture_output=True, text=True,
                                  timeout=600)
            server_log = server.log()
    ran = re.findall(r"### README line (\d+)", proc.stderr)
    failed_at = ran[-1] if ran else "?"
    assert proc.returncode == 0, (f"the README block at line {failed_at} failed (exit {proc.returncode})\n"
                                  f"--- stdout\n{proc.stdout[-3000:]}\n--- stderr\n{proc.stderr[-3000:]}\n"
                                  f"--- server log\n{server_log[-2000:]}")
    assert len(ran) == len(runnable) and proc.stderr.count("done") >= len(runnable)
    out = proc.stdout
    assert re.search(r"^agent-[0-9a-f-]{36}$", out, re.M), "the curl example printed the new agent's id"
    assert '"message_type":"assistant_message"' in out and "assistant_message hi" in out, "the agent answered"
    assert '"tool_return"' in out and '"status": "success"' in out, "agenthost tools run printed the result"
    assert "completed" in out and "heron" in out, "the upload was ingested and found by search"
