"""The real letta-client 1.12.1 Python SDK (its own venv, in a subprocess) against a running server.

The 1.x SDK cannot share the test venv (the 0.8 tests pin letta-client 0.1.x), so each flow runs
``tests/v1/sdk_driver.py`` with the interpreter named by ``AGENTHOST_V1_PYTHON`` (default
``/work/venv-v1/bin/python``, else ``.venv-v1/bin/python``; ``.ci/run`` creates the latter).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Any

import pytest

from tests.mcp_client.mcp_peers import PEER_SERVER

DRIVER = Path(__file__).with_name("sdk_driver.py")
ROOT = Path(__file__).resolve().parents[2]
MODEL = "openai-proxy/gpt-4o-mini"
EMBEDDING = "openai/text-embedding-3-small"


def _v1_python() -> str | None:
    for candidate in (os.environ.get("AGENTHOST_V1_PYTHON"), "/work/venv-v1/bin/python",
                      str(ROOT / ".venv-v1" / "bin" / "python")):
        if candidate and Path(candidate).exists():
            return candidate
    return None


V1_PYTHON = _v1_python()
pytestmark = pytest.mark.skipif(V1_PYTHON is None, reason="no venv with letta-client 1.x (see .ci/run)")


def drive(server: Any, flow: str, **params: Any) -> dict[str, Any]:
    assert V1_PYTHON is not None
    done = subprocess.run([V1_PYTHON, str(DRIVER), flow, server.base_url, json.dumps(params)],
                          capture_output=True, text=True, timeout=180, cwd=ROOT)
    assert done.returncode == 0, f"{flow} failed:\n{done.stderr[-4000:]}"
    return json.loads(done.stdout.strip().splitlines()[-1])


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def test_agents_page_without_duplicates_in_both_orders_and_hide_relationships_unless_included(server):
    out = drive(server, "agents", tag=unique("v1pages"), model=MODEL, embedding=EMBEDDING)
    ids = out["ids"]
    assert out["created_blocks"] == 1  # create answers carry the relationships
    assert out["plain"] == {"blocks": 0, "tools": 0, "tags": []}
    assert out["full"]["blocks"] == 1 and out["full"]["tools"] > 0 and len(out["full"]["tags"]) == 1
    assert out["first_page_asc"] == ids[:2]
    assert out["all_asc"] == ids
    assert out["first_page_desc"] == ids[::-1][:2]
    assert out["all_desc"] == ids[::-1]
    assert out["agent_tools_paged"] == out["agent_tools_all"]
    assert len(set(out["agent_tools_paged"])) == len(out["agent_tools_paged"])
    assert out["updated"]["description"] == "changed" and "extra" in out["updated"]["tags"]
    assert "extra" in out["tags"]


def test_blocks_attach_and_edit_and_a_tool_runs_for_an_agent(server):
    out = drive(server, "blocks_and_tools", model=MODEL, embedding=EMBEDDING)
    assert out["attached_labels"] == ["human", "project"]  # block attach still answers the AgentState
    assert out["block_agents"] == [out["agent"]] and out["agent_blocks"] == ["human", "project"]
    assert out["edited"] == "agenthost v1"
    assert out["tool_attach_body"] == "null"  # 1.x: tool attach answers null
    assert out["run"]["status"] == "success" and out["run"]["func_return"] == "rolled 12"
    assert out["search"][0] == "roll_dice"
    assert out["missing"]["raised"] == "NotFoundError" and "no_such_tool" in out["missing"]["body"]["detail"]


def test_mcp_servers_by_id_over_a_real_stdio_peer_and_an_agent_turn_calling_its_tool(server, scripted_llm, http):
    out = drive(server, "mcp", name=unique("peer"), command=sys.executable, args=[str(PEER_SERVER)], tool="add")
    events = [json.loads(line[5:]) for line in http.get(f"/v1/mcp-servers/connect/{out['id']}").text.splitlines()
              if line.startswith("data:")]
    assert [e["event"] for e in events] == ["connection_attempt", "success"]
    assert "add" in {t["name"] for t in events[1]["tools"]}
    assert out["id"].startswith("mcp_server-") and out["type"] == "stdio" and out["listed"]
    assert "echo" in " ".join(out["tools"]) and out["one"].endswith("add")
    assert out["run"]["status"] == "success" and out["run"]["func_return"] in ("5", "5.0")
    assert set(out["refresh"]) == {"added", "updated", "deleted"}
    model = unique("v1mcp")
    scripted_llm.for_model(model).push_tool_call(out["one"], {"a": 20, "b": 22})
    turn = drive(server, "mcp_turn", model=f"openai-proxy/{model}", embedding=EMBEDDING, tool_id=out["tool_id"],
                 server_id=out["id"])
    [(name, status, value)] = turn["returns"]
    assert (name, status) == (out["one"], "success") and value in ("42", "42.0")
    assert turn["gone"]["raised"] == "NotFoundError" and turn["gone"]["status"] == 404


def test_archives_hold_passages_that_agents_and_passage_search_find(server):
    out = drive(server, "archives", name=unique("facts"), model=MODEL, embedding=EMBEDDING)
    assert out["passage_archive"] == out["archive"]
    assert out["attach_body"] == "null"
    assert out["search"][0] == "The capital of France is Paris."
    assert "The capital of France is Paris." in out["agent_search"]
    assert out["agents_of"] == [out["agent"]]
    assert out["listed"] and out["modified"] == "changed"


def test_folders_upload_attach_and_open_a_file(server, http):
    out = drive(server, "folders", name=unique("docs"), model=MODEL, embedding=EMBEDDING)
    assert out["attach_body"] == "null" and out["agent_folders"] == [out["folder"]]
    wait_ingested(http, out["folder"], out["file"])
    files = drive(server, "folder_files", folder=out["folder"], file=out["file"], agent=out["agent"])
    assert files["statuses"] == ["completed"]
    [(file_id, is_open, content)] = files["opened"]
    assert file_id == out["file"] and is_open and "PELICAN" in content
    assert files["closed"] == [[out["file"], False]]


def wait_ingested(http: Any, folder: str, file_id: str, timeout: float = 30.0) -> None:
    """Ingestion is a background job: follow the file's job (as tests/host/sources does), under a deadline."""
    job = http.get(f"/v1/folders/{folder}/files/{file_id}").json()["job_id"]
    deadline = time.monotonic() + timeout
    while http.get(f"/v1/jobs/{job}").json()["status"] not in ("completed", "failed", "cancelled"):
        assert time.monotonic() < deadline, f"ingestion job {job} did not finish in {timeout}s"
        time.sleep(0.02)


def test_a_message_makes_a_run_with_steps_metrics_and_searchable_history(server, scripted_llm):
    model = unique("v1runs")
    scripted_llm.for_model(model).push_tool_call("send_message", {"message": "hi from v1"})
    out = drive(server, "runs", model=f"openai-proxy/{model}", embedding=EMBEDDING)
    assert "assistant_message" in out["kinds"]
    assert out["run_status"] == "completed" and out["num_steps"] >= 1 and out["trace_spans"] >= 1
    assert out["step_run"] and out["step_metrics_run"] == out["step_run"]
    assert sorted(out["agent_steps"]) == sorted(out["run_steps"])  # Letta answers 400 here; pages of one
    assert out["step_messages"] and out["one"]
    assert "hello v1" in out["search"]
    assert len(out["history_first_page"]) >= 1
    assert len(out["all_desc_ids"]) == len(set(out["all_desc_ids"])) >= 2  # desc pages: older, never repeated


def test_404_and_422_as_the_sdk_raises_them(server):
    out = drive(server, "errors", model=MODEL, embedding=EMBEDDING,
                missing_agent="agent-00000000-0000-4000-8000-000000000000")
    assert out["missing_agent"]["raised"] == "NotFoundError"
    assert out["bad_body"]["raised"] == "UnprocessableEntityError"
    body = out["bad_body"]["body"]
    assert body["trace_id"] == "" and isinstance(body["detail"], str) and "'label'" in body["detail"]
    assert out["missing_archive"]["raised"] == "NotFoundError"


def test_messages_stream_through_the_sdk_ping_first_then_messages_then_stop_and_usage(server, scripted_llm):
    model = unique("v1stream")
    scripted_llm.for_model(model).push_text("streamed").push_text("behind")  # letta_v1_agent: plain text
    out = drive(server, "streams", model=f"openai-proxy/{model}", embedding=EMBEDDING, background=True)
    assert out["kinds"][0] == "ping" and out["kinds"][-2:] == ["stop_reason", "usage_statistics"]
    assert out["content"] == ["streamed"]
    assert out["background"][:2] == [["ping", 1], ["assistant_message", 2]]
    assert out["resumed"] == out["background"][1:]  # runs.messages.stream(run_id, starting_after=1)
