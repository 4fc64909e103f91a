"""The Backend over a running ``agenthost serve`` (``agenthost mcp --url URL``), with httpx."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import anyio
import httpx

from mcp_server.backend import (
    AgentInfo,
    BlockInfo,
    ProgressFn,
    ToolRunOutcome,
    TurnReply,
    history_entry,
    progress_note,
    sse_payloads,
)
from mcp_server.errors import BridgeError, ToolFailure

logger = logging.getLogger(__name__)

REQUEST_TIMEOUT_S = 60.0
TURN_TIMEOUT_S = 600.0


def _detail(response: httpx.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return response.text[:500]
    detail = body.get("detail") if isinstance(body, dict) else None
    if isinstance(detail, list):  # FastAPI validation errors
        return "; ".join(f"{'.'.join(str(p) for p in d.get('loc', ()))}: {d.get('msg')}" for d in detail)
    return str(detail or body)[:500]


class RestBackend:
    def __init__(self, client: httpx.AsyncClient) -> None:
        self.http = client

    @classmethod
    @asynccontextmanager
    async def connect(cls, base_url: str, password: str | None) -> AsyncIterator[RestBackend]:
        headers = {"Authorization": f"Bearer {password}"} if password else {}
        async with httpx.AsyncClient(base_url=base_url.rstrip("/"), headers=headers,
                                     timeout=httpx.Timeout(REQUEST_TIMEOUT_S)) as client:
            yield cls(client)

    def _check(self, response: httpx.Response) -> Any:
        if response.status_code == 401:
            raise BridgeError(f"{self.http.base_url} refused the password: pass --password or set "
                              "LETTA_SERVER_PASSWORD to the server's password")
        if response.status_code >= 500:
            raise BridgeError(f"{self.http.base_url} failed with HTTP {response.status_code}: {_detail(response)}")
        if response.status_code >= 400:
            raise ToolFailure(_detail(response))
        return response.json()

    async def _call(self, method: str, path: str, **kwargs: Any) -> Any:
        try:
            with anyio.fail_after(REQUEST_TIMEOUT_S + 5):
                response = await self.http.request(method, path, **kwargs)
        except (httpx.HTTPError, TimeoutError) as exc:
            raise BridgeError(f"Cannot reach the agenthost server at {self.http.base_url} ({type(exc).__name__}: "
                              f"{exc}); is `agenthost serve` running there?") from None
        return self._check(response)

    async def list_agents(self, query: str | None, limit: int) -> list[AgentInfo]:
        params: dict[str, Any] = {"limit": limit}
        if query:
            params["query_text"] = query
        return [AgentInfo.of(a) for a in await self._call("GET", "/v1/agents/", params=params)]

    async def create_agent(self, *, name: str | None, model: str | None, persona: str, human: str,
                           description: str | None, include_base_tools: bool) -> AgentInfo:
        if not model:
            models = await self._call("GET", "/v1/models/")
            handles = [m.get("handle") for m in models if m.get("handle")]
            if not handles:
                raise ToolFailure("No model is configured on the server; pass `model` (e.g. 'openai/gpt-4o-mini')")
            model = handles[0]
        body = {"name": name, "model": model, "description": description, "include_base_tools": include_base_tools,
                "memory_blocks": [{"label": "persona", "value": persona}, {"label": "human", "value": human}]}
        return AgentInfo.of(await self._call("POST", "/v1/agents/", json=body))

    async def get_agent(self, agent_id: str) -> AgentInfo:
        return AgentInfo.of(await self._call("GET", f"/v1/agents/{agent_id}"))

    async def send_message(self, agent_id: str, text: str, progress: ProgressFn | None) -> TurnReply:
        reply = TurnReply()
        body = {"messages": [{"role": "user", "content": text}]}
        try:
            with anyio.fail_after(TURN_TIMEOUT_S):
                async with self.http.stream("POST", f"/v1/agents/{agent_id}/messages/stream", json=body,
                                            timeout=httpx.Timeout(REQUEST_TIMEOUT_S, read=TURN_TIMEOUT_S)) as resp:
                    if resp.status_code >= 400:
                        await resp.aread()
                        self._check(resp)
                    buffer = ""
                    async for text_chunk in resp.aiter_text():
                        events, buffer = sse_payloads(buffer + text_chunk)
                        for event in events:
                            if isinstance(event, dict):
                                reply.add(event)
                                note = progress_note(event)
                                if progress is not None and note is not None:
                                    await progress(note, event.get("status") == "error")
        except (httpx.HTTPError, TimeoutError) as exc:
            raise BridgeError(f"The message to agent {agent_id} via {self.http.base_url} failed "
                              f"({type(exc).__name__}: {exc})") from None
        if reply.error:
            raise ToolFailure(f"The agent's turn failed: {reply.error}")
        return reply

    async def list_groups(self) -> list[dict[str, Any]]:
        return list(await self._call("GET", "/v1/groups/"))

    async def send_group_message(self, group_id: str, text: str) -> TurnReply:
        reply = TurnReply()
        body = {"messages": [{"role": "user", "content": text}]}
        try:
            with anyio.fail_after(TURN_TIMEOUT_S):
                resp = await self.http.post(f"/v1/groups/{group_id}/messages", json=body,
                                            timeout=httpx.Timeout(REQUEST_TIMEOUT_S, read=TURN_TIMEOUT_S))
        except (httpx.HTTPError, TimeoutError) as exc:
            raise BridgeError(f"The message to group {group_id} via {self.http.base_url} failed "
                              f"({type(exc).__name__}: {exc})") from None
        done = self._check(resp)
        for message in done.get("messages", []):
            reply.add(message)
        reply.stop_reason = (done.get("stop_reason") or {}).get("stop_reason")
        return reply

    async def blocks(self, agent_id: str) -> list[BlockInfo]:
        return [BlockInfo.of(b) for b in await self._call("GET", f"/v1/agents/{agent_id}/core-memory/blocks")]

    async def block(self, agent_id: str, label: str) -> BlockInfo:
        return BlockInfo.of(await self._call("GET", f"/v1/agents/{agent_id}/core-memory/blocks/{label}"))

    async def set_block(self, agent_id: str, label: str, value: str) -> BlockInfo:
        return BlockInfo.of(await self._call("PATCH", f"/v1/agents/{agent_id}/core-memory/blocks/{label}",
                                             json={"value": value}))

    async def archival_insert(self, agent_id: str, text: str, tags: list[str] | None) -> str:
        body: dict[str, Any] = {"text": text}
        if tags:
            body["tags"] = tags
        return str((await self._call("POST", f"/v1/agents/{agent_id}/archival-memory", json=body))[0]["id"])

    async def archival_search(self, agent_id: str, query: str, top_k: int) -> list[dict[str, Any]]:
        found = await self._call("GET", f"/v1/agents/{agent_id}/archival-memory/search",
                                 params={"query": query, "top_k": top_k})
        return [{"id": r.get("id"), "text": r.get("content"), "tags": r.get("tags") or [],
                 "created_at": r.get("timestamp"), "score": round(float(r.get("score") or 0.0), 4)}
                for r in found.get("results", [])]

    async def history(self, agent_id: str, limit: int) -> list[dict[str, Any]]:
        messages = await self._call("GET", f"/v1/agents/{agent_id}/messages", params={"limit": limit})
        return [e for e in (history_entry(m) for m in messages) if e is not None]

    async def search_history(self, agent_id: str, query: str, limit: int) -> list[dict[str, Any]]:
        # No recall-search route in Letta's REST API: scan recent history (newest first).
        needle = query.lower()
        entries = await self.history(agent_id, 500)
        hits = [e for e in reversed(entries) if e["type"] != "system_message"
                and needle in " ".join(str(e.get(k) or "") for k in ("text", "arguments")).lower()]
        return hits[:limit]

    async def list_tools(self) -> list[dict[str, Any]]:
        tools = await self._call("GET", "/v1/tools/", params={"limit": 1000})
        return [{"id": t.get("id"), "name": t.get("name"), "tool_type": t.get("tool_type"),
                 "description": (t.get("description") or "")[:300]} for t in tools]

    async def run_tool(self, source_code: str, args: dict[str, Any], env: dict[str, str],
                       pip: list[str]) -> ToolRunOutcome:
        body = {"source_code": source_code, "args": args, "env_vars": env,
                "pip_requirements": [{"name": p} for p in pip] or None}
        try:
            out = await self._call("POST", "/v1/tools/run", json=body)
        except ToolFailure as exc:
            if "Not Found" in exc.message or "Method Not Allowed" in exc.message:
                raise ToolFailure(f"{self.http.base_url} does not serve POST /v1/tools/run; run "
                                  "`agenthost mcp` without --url to use the local sandbox") from None
            raise
        status = "success" if out.get("status") == "success" else "error"
        return ToolRunOutcome(status, str(out.get("tool_return") or ""), out.get("stdout") or None,
                              out.get("stderr") or None)


__all__ = ["RestBackend"]
