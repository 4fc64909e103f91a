"""The real TypeScript SDK (@letta-ai/letta-client 1.12.1, tests/v1/ts) through the 1.x flows.

Each flow runs ``node tests/v1/ts/flows.mjs <flow> <base_url> <params>`` and reports what it observed.
Skipped when the package is not installed (``npm ci`` in tests/v1/ts; ``.ci/run`` does it).
"""

from __future__ import annotations

import json
import shutil
import subprocess
import uuid
from pathlib import Path
from typing import Any

import pytest

TS = Path(__file__).with_name("ts")
MODEL = "openai-proxy/gpt-4o-mini"
EMBEDDING = "openai/text-embedding-3-small"
pytestmark = pytest.mark.skipif(
    shutil.which("node") is None or not (TS / "node_modules" / "@letta-ai" / "letta-client").exists(),
    reason="the TypeScript SDK is not installed (npm ci in tests/v1/ts)")


def node(server: Any, flow: str, **params: Any) -> dict[str, Any]:
    done = subprocess.run(["node", str(TS / "flows.mjs"), flow, server.base_url, json.dumps(params)],
                          capture_output=True, text=True, timeout=180, cwd=TS)
    assert done.returncode == 0, f"{flow} failed:\n{done.stderr[-4000:]}"
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_ts_agents_auto_paginate_once_each_in_both_orders_and_are_letta_v1_agents(server):
    out = node(server, "agents", tag=f"ts-{uuid.uuid4().hex[:8]}", model=MODEL, embedding=EMBEDDING)
    assert out["asc"] == out["ids"] and out["desc"] == out["ids"][::-1]
    assert out["type"] == "letta_v1_agent" and out["plain_tools"] == 0


def test_ts_blocks_attach(server):
    out = node(server, "blocks", model=MODEL, embedding=EMBEDDING)
    assert out["labels"] == ["human", "project"]


def test_ts_messages_json_streamed_and_background_resumed(server, scripted_llm):
    model = f"ts-{uuid.uuid4().hex[:6]}"
    scripted_llm.for_model(model).push_text("one").push_text("two").push_text("three")
    out = node(server, "messages", model=f"openai-proxy/{model}", embedding=EMBEDDING)
    assert out["sync"] == ["assistant_message"] and out["stop"] == "end_turn"
    assert out["kinds"] == ["ping", "assistant_message", "stop_reason", "usage_statistics"]
    assert out["live"][:2] == [["ping", 1], ["assistant_message", 2]]
    assert out["resumed"] == out["live"][1:]


def test_ts_client_tool_round_trip(server, scripted_llm):
    model = f"ts-{uuid.uuid4().hex[:6]}"
    scripted_llm.for_model(model).push_tool_call("read_file", {"path": "a.txt"}).push_text("it says: file text")
    out = node(server, "client_tools", model=f"openai-proxy/{model}", embedding=EMBEDDING)
    assert out["paused"] == "requires_approval" and out["tool"] == "read_file"
    assert out["done"] == [["tool_return_message", "file text"], ["assistant_message", "it says: file text"]]


def test_ts_archives(server):
    out = node(server, "archives", name=f"ts-{uuid.uuid4().hex[:8]}", embedding=EMBEDDING)
    assert out["passage_archive"] == out["archive"] and out["listed"] == [out["archive"]]


def test_ts_conversations_stream_by_default(server, scripted_llm):
    model = f"ts-{uuid.uuid4().hex[:6]}"
    scripted_llm.for_model(model).push_text("hi from the conversation")
    out = node(server, "conversations", model=f"openai-proxy/{model}", embedding=EMBEDDING)
    assert out["agent"] == out["expected_agent"]
    assert out["kinds"] == ["ping", "assistant_message", "stop_reason", "usage_statistics"]
    assert out["history"][-2:] == ["user_message", "assistant_message"]


def test_ts_a_404_raises_not_found(server):
    out = node(server, "errors")
    assert out["raised"] == "NotFoundError" and out["status"] == 404
