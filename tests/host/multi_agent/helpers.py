"""Helpers for driving agents over REST in multi-agent tests."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx

from tests.support.scripted_llm import ScriptQueue


@dataclass
class Agent:
    id: str
    name: str
    model: str  # the scripted model name; the handle is openai-proxy/<model>
    script: ScriptQueue


def send(http: httpx.Client, agent: Agent, text: str) -> list[dict[str, Any]]:
    resp = http.post(f"/v1/agents/{agent.id}/messages", json={"messages": [{"role": "user", "content": text}]})
    assert resp.status_code == 200, resp.text
    return resp.json()["messages"]


def tool_returns(messages: list[dict[str, Any]], name: str | None = None) -> list[dict[str, Any]]:
    return [m for m in messages if m["message_type"] == "tool_return_message" and (name is None or m["name"] == name)]


def history(http: httpx.Client, agent: Agent) -> list[dict[str, Any]]:
    resp = http.get(f"/v1/agents/{agent.id}/messages", params={"limit": 200})
    assert resp.status_code == 200, resp.text
    return resp.json()


