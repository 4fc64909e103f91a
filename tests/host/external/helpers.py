"""Helpers for driving one agent turn over REST in the external-tool tests."""

from __future__ import annotations

from typing import Any

import httpx

TAVILY_KEY = "tvly-server"
E2B_KEY = "e2b-server"
COMPOSIO_KEY = "ck-server"
EMBEDDING = "openai/text-embedding-3-small"


def turn(http: httpx.Client, agent_id: str, text: str = "go") -> list[dict[str, Any]]:
    resp = http.post(f"/v1/agents/{agent_id}/messages", json={"messages": [{"role": "user", "content": text}]})
    assert resp.status_code == 200, resp.text
    return resp.json()["messages"]


def the_return(messages: list[dict[str, Any]], name: str) -> dict[str, Any]:
    [ret] = [m for m in messages if m["message_type"] == "tool_return_message" and m["name"] == name]
    return ret
