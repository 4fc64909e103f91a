"""Logs an operator can act on: failures logged with the agent they concern, identical repeats rate-limited
with a count, and JSON lines with --log-format json."""

from __future__ import annotations

import io
import json
import logging
import subprocess
import sys
import time
import uuid
from pathlib import Path

import httpx

from host.logs import JsonFormatter, RepeatFilter, configure
from tests.support.server import free_port, server_env

REPO = Path(__file__).resolve().parents[3]


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def _emit(_: logging.Logger, stream: io.StringIO) -> list[str]:
    return [line for line in stream.getvalue().splitlines() if line]


def test_identical_failures_are_rate_limited_with_a_count() -> None:
    clock, stream = Clock(), io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.addFilter(RepeatFilter(window_s=600, clock=clock))
    log = logging.getLogger(f"test.repeat.{uuid.uuid4().hex}")
    log.addHandler(handler)
    log.propagate = False
    log.setLevel(logging.DEBUG)
    for delay in (1.0, 2.0, 4.0, 60.0, 60.0):  # a retry delay does not make a message new
        log.warning("MCP server %r: %s; retrying in %.2fs", "time", "command not found: uvx", delay)
        clock.now += 60
    log.warning("MCP server %r: %s; retrying in %.2fs", "other", "command not found: uvx", 1.0)
    log.info("info is never held back")
    log.info("info is never held back")
    assert _emit(log, stream) == [
        "MCP server 'time': command not found: uvx; retrying in 1.00s",
        "MCP server 'other': command not found: uvx; retrying in 1.00s",
        "info is never held back", "info is never held back",
    ]
    clock.now += 600
    log.warning("MCP server %r: %s; retrying in %.2fs", "time", "command not found: uvx", 60.0)
    assert _emit(log, stream)[-1] == ("MCP server 'time': command not found: uvx; retrying in 60.00s "
                                      "(and 4 more like it in the last 15 min)")


def test_json_lines_carry_the_ids() -> None:
    record = logging.LogRecord("host.agent", logging.WARNING, __file__, 1, "model call failed: %s", ("boom",), None)
    record.agent_id = "agent-123"
    out = json.loads(JsonFormatter().format(record))
    assert out["level"] == "warning" and out["logger"] == "host.agent" and out["agent_id"] == "agent-123"
    assert out["message"] == "model call failed: boom" and out["ts"].endswith("+00:00")


def test_configure_routes_every_logger_to_one_handler() -> None:
    stream = io.StringIO()
    root = logging.getLogger()
    saved = (list(root.handlers), root.level)
    try:
        configure("warning", "json", stream=stream)
        logging.getLogger("uvicorn.error").warning("from uvicorn")
        logging.getLogger("host.x").info("hidden at warning")
        lines = [json.loads(line) for line in stream.getvalue().splitlines()]
        assert [(x["logger"], x["message"]) for x in lines] == [("uvicorn.error", "from uvicorn")]
    finally:
        root.handlers[:] = saved[0]
        root.setLevel(saved[1])


def test_a_provider_failure_is_logged_once_with_the_agent(make_server, scripted_llm) -> None:
    name = f"logs-{uuid.uuid4().hex[:10]}"
    srv = make_server()
    with httpx.Client(base_url=srv.base_url, timeout=60) as c:
        agent = c.post("/v1/agents/", json={"model": f"openai-proxy/{name}", "embedding": "openai/text-embedding-3-small"})
        agent_id = agent.json()["id"]
        scripted_llm.for_model(name).push_error(500, "the GPUs are on fire")
        resp = c.post(f"/v1/agents/{agent_id}/messages", json={"messages": [{"role": "user", "content": "x"}]})
        assert resp.status_code == 502, resp.text
        # the 502 is written to the log before the response is sent
        lines = [line for line in srv.log().splitlines() if "GPUs are on fire" in line]
    assert len(lines) == 1, srv.log()
    assert "WARNING" in lines[0] and agent_id in lines[0] and "502" in lines[0]


def test_serve_writes_json_lines_with_log_format_json(tmp_path: Path) -> None:
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "host.cli", "serve", "--port", str(port), "--log-format", "json"],
                            env=server_env(tmp_path, None), cwd=REPO, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"http://127.0.0.1:{port}/v1/health/", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.05)
    finally:
        proc.terminate()
        _, err = proc.communicate(timeout=30)
    lines = [json.loads(line) for line in err.splitlines() if line.strip()]
    assert any(x["logger"] == "host.app" and "ready" in x["message"] for x in lines), err
    assert any(x["logger"].startswith("uvicorn") for x in lines)
    assert all(set(x) >= {"ts", "level", "logger", "message"} for x in lines)


def test_a_tool_timeout_is_a_warning_naming_agent_and_tool_and_other_tool_errors_are_info(caplog) -> None:
    from host.tools.dispatcher import ToolInfo, ToolResult, _log_failure

    tool = ToolInfo(id="tool-1", name="slow_tool", tool_type="custom", json_schema={})
    with caplog.at_level(logging.INFO, logger="host.tools.dispatcher"):
        _log_failure(tool, "agent-42", ToolResult("error", "Tool timed out after 5.0 s; the process tree was killed"))
        _log_failure(tool, "agent-42", ToolResult("error", "Error executing function slow_tool: ValueError: x"))
    timeout, error = caplog.records
    assert timeout.levelno == logging.WARNING and error.levelno == logging.INFO
    assert timeout.getMessage() == ("agent agent-42: tool slow_tool (custom) failed: Tool timed out after 5.0 s; "
                                    "the process tree was killed")
    assert timeout.agent_id == "agent-42" and timeout.tool == "slow_tool"
