"""Provider traces: the request a step sent its model and the response it got (``GET /v1/telemetry/{step_id}``).

    traces.note(step_id, agent_id, request, response)   # the hot path: one append, nothing else
    await traces.get(step_id)                           # ProviderTrace (Letta's shape); NotFoundError

Noting a call costs an append: building the JSON, stripping secrets and writing happen in a background
task that writes the notes in batches (and on shutdown). A read first writes what is still waiting, so a
trace is there as soon as its step is. Bounded: each side is cut to ``max_bytes`` of JSON (the messages
are dropped and ``"truncated": true`` is set), and rows older than ``retention_s`` are deleted.

Secrets: the request is rebuilt as litellm gets it, minus the credentials (api keys, base URLs' user info,
headers); any configured provider secret still appearing in the text is replaced with ``****``.
"""

from __future__ import annotations

import json
import logging
import math
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import anyio
from sqlalchemy import delete, insert, select

from host.domain.actor import acting_organization
from host.errors import NotFoundError
from host.ids import new_id, utcnow
from host.llm.arguments import _completion_kwargs
from host.llm.providers import ProviderSettings
from host.llm.types import LlmRequest, LlmResponse
from host.persistence.db import Database
from host.persistence.models import ProviderTraceRow
from host.persistence.types import EncodedJSON
from mcp_client import Redactor

logger = logging.getLogger(__name__)

_DROPPED_KEYS = {"api_key", "api_base", "base_url", "extra_headers", "headers", "aws_access_key_id",
                 "aws_secret_access_key", "aws_session_token", "azure_ad_token", "timeout", "num_retries",
                 "max_retries", "organization"}
_BATCH_S = 0.5  # a read (GET /v1/telemetry) writes what waits at once: batching never hides a trace
_PENDING_LIMIT = 1000  # notes waiting to be written; beyond it the oldest are dropped (never blocks a turn)


@dataclass(frozen=True)
class _Note:
    step_id: str
    agent_id: str
    request: LlmRequest
    response: LlmResponse
    at: float


def provider_secrets(settings: ProviderSettings) -> Redactor:
    """Every credential in the provider settings (any field whose name says key, secret or token)."""
    values = [str(v) for k, v in vars(settings).items()
              if isinstance(v, str) and v and any(w in k for w in ("key", "secret", "token", "password"))]
    return Redactor(v for v in values if len(v) >= 4)


def request_json(req: LlmRequest, settings: ProviderSettings) -> dict[str, Any]:
    kw = _completion_kwargs(req, settings)
    return {k: v for k, v in kw.items() if k not in _DROPPED_KEYS}


def response_json(resp: LlmResponse) -> dict[str, Any]:
    message: dict[str, Any] = {"role": "assistant", "content": resp.content}
    if resp.reasoning:
        message["reasoning_content"] = resp.reasoning
    if resp.tool_calls:
        message["tool_calls"] = [{"id": c.id, "type": "function",
                                  "function": {"name": c.name, "arguments": c.arguments_json}}
                                 for c in resp.tool_calls]
    u = resp.usage
    return {"model": resp.raw_model, "object": "chat.completion",
            "choices": [{"index": 0, "message": message, "finish_reason": resp.finish_reason}],
            "usage": {"prompt_tokens": u.prompt_tokens, "completion_tokens": u.completion_tokens,
                      "total_tokens": u.total_tokens}}


def _bounded(value: dict[str, Any] | str, redact: Redactor, max_bytes: int) -> dict[str, Any] | EncodedJSON:
    """``value`` (or the JSON text of one) as stored: redacted, and cut to the bytes a trace may hold. Stored
    as JSON text (``EncodedJSON``) when nothing was cut: encoded once, never parsed again on the way."""
    if isinstance(value, str):
        raw = value
    else:
        try:
            raw = json.dumps(value)
        except TypeError:
            raw = json.dumps(value, default=str)
    text = redact(raw)
    if len(text) <= max_bytes:
        return EncodedJSON(text)
    parsed = json.loads(raw) if isinstance(value, str) else value
    kept = {k: v for k, v in parsed.items() if k not in ("messages", "tools", "choices")}
    kept.update(truncated=True, original_bytes=len(text))
    text = redact(json.dumps(kept, default=str))[:max_bytes]
    try:
        return json.loads(text)
    except ValueError:
        return {"truncated": True, "original_bytes": len(text)}


class ProviderTraceStore:
    def __init__(self, db: Database, providers: ProviderSettings, *, retention_s: float = 7 * 86400,
                 max_bytes: int = 1_000_000, enabled: bool = True) -> None:
        self.db, self.providers = db, providers
        self.retention_s, self.max_bytes, self.enabled = retention_s, max_bytes, enabled
        self.redact = provider_secrets(providers)
        self._pending: list[_Note] = []
        self._wake = anyio.Event()
        self._lock = anyio.Lock()
        self._pruned_at = -math.inf

    @property
    def pending(self) -> int:
        return len(self._pending)

    # ---- the hot path ----------------------------------------------------------------------------
    def note(self, step_id: str, agent_id: str, request: LlmRequest, response: LlmResponse) -> None:
        if not self.enabled:
            return
        if len(self._pending) >= _PENDING_LIMIT:
            del self._pending[0]
        self._pending.append(_Note(step_id, agent_id, request, response, time.time()))
        self._wake.set()

    # ---- writing -----------------------------------------------------------------------------------
    def _rows(self, notes: list[_Note]) -> list[dict[str, Any]]:
        rows = []
        for n in notes:
            try:
                rows.append(dict(id=new_id("provider_trace"), step_id=n.step_id, agent_id=n.agent_id,
                                 request_json=_bounded(n.response.sent or request_json(n.request, self.providers),
                                                       self.redact, self.max_bytes),
                                 response_json=_bounded(response_json(n.response), self.redact, self.max_bytes),
                                 created_at=utcnow()))
            except Exception:  # a trace is never worth a failure elsewhere
                logger.exception("provider trace of step %s not recorded", n.step_id)
        return rows

    async def flush(self) -> None:
        async with self._lock:
            notes, self._pending = self._pending, []
            rows = self._rows(notes)
            if rows:
                await self.db.write(lambda s: s.execute(insert(ProviderTraceRow.__table__), rows), bulk=True)
            if time.monotonic() - self._pruned_at > 60:
                self._pruned_at = time.monotonic()
                cutoff = utcnow() - timedelta(seconds=self.retention_s)
                table = ProviderTraceRow.__table__
                await self.db.write(lambda s: s.execute(delete(table).where(table.c.created_at < cutoff)), bulk=True)

    @asynccontextmanager
    async def running(self) -> AsyncIterator[ProviderTraceStore]:
        async def writer() -> None:
            while True:
                await self._wake.wait()
                await anyio.sleep(_BATCH_S)  # gather the steps of the next moment into one write
                self._wake = anyio.Event()
                try:
                    await self.flush()
                except Exception:
                    logger.exception("writing provider traces failed; they are dropped")

        async with anyio.create_task_group() as tg:
            tg.start_soon(writer)
            try:
                yield self
            finally:
                tg.cancel_scope.cancel()
                with anyio.CancelScope(shield=True), anyio.move_on_after(10):
                    await self.flush()

    # ---- reading ------------------------------------------------------------------------------------
    async def get(self, step_id: str) -> dict[str, Any]:
        if self._lock.locked() or any(n.step_id == step_id for n in self._pending):
            await self.flush()  # waits for a write in progress (it may hold this step's trace)
        # An ORM select: scoped to the caller's organization (host.persistence.tenancy), through the agent.
        row = await self.db.read(lambda s: s.execute(
            select(ProviderTraceRow).where(ProviderTraceRow.step_id == step_id)
            .order_by(ProviderTraceRow.created_at.desc()).limit(1)).scalars().first())
        if row is None:
            raise NotFoundError(f"No provider trace for step {step_id!r} (traces are kept "
                                f"{self.retention_s / 86400:g} days; a step without a model call has none)")
        return {"id": row.id, "step_id": row.step_id, "request_json": row.request_json,
                "response_json": row.response_json, "organization_id": acting_organization(),
                "created_by_id": None, "last_updated_by_id": None,
                "created_at": row.created_at.isoformat(), "updated_at": row.created_at.isoformat()}
