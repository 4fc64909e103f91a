"""Token streaming: turn the model's deltas into LettaMessage chunks as they arrive.

Content deltas become ``reasoning_message`` chunks; a ``send_message`` call streams its ``message``
argument as ``assistant_message`` chunks (and ``inner_thoughts`` as reasoning); any other tool call
streams as ``tool_call_message`` chunks carrying argument fragments.
"""

from __future__ import annotations

from contextlib import aclosing
from datetime import UTC, datetime
from typing import Any

from host import llm
from host.agent.stream_parse import PartialField
from host.agent.turn import Emit, TurnRequest
from host.domain.events import LettaMessageEvent
from host.domain.letta import AssistantMessage, LettaMessage, ReasoningMessage, ToolCall, ToolCallMessage
from host.domain.messages import part_otid
from host.llm.providers import ProviderSettings


class _Call:
    def __init__(self) -> None:
        self.id: str | None = None
        self.name: str | None = None
        self.args = ""
        self.message = PartialField("message")
        self.thoughts = PartialField("inner_thoughts")
        self.announced = False


class TokenStreamer:
    def __init__(self, req: TurnRequest, message_id: str, step_id: str, emit: Emit) -> None:
        self.req = req
        self.message_id = message_id
        self.step_id = step_id
        self.emit = emit
        self.calls: dict[int, _Call] = {}
        self.date = datetime.now(UTC).replace(microsecond=0).isoformat()

    def _env(self, index: int) -> dict[str, Any]:
        return {"id": self.message_id, "date": self.date, "otid": part_otid(self.message_id, index),
                "step_id": self.step_id}

    async def _send(self, msg: LettaMessage) -> None:
        if self.req.include_types is None or msg.message_type in self.req.include_types:
            await self.emit(LettaMessageEvent(msg))

    async def _reasoning(self, text: str) -> None:
        if text:
            await self._send(ReasoningMessage(**self._env(0), reasoning=text))

    async def run(self, request: llm.LlmRequest, providers: ProviderSettings) -> llm.LlmResponse:
        final: llm.LlmResponse | None = None
        async with aclosing(llm.stream(request, providers)) as deltas:
            async for delta in deltas:
                if isinstance(delta, (llm.ContentDelta, llm.ReasoningDelta)):
                    await self._reasoning(delta.text)
                elif isinstance(delta, llm.ToolCallDelta):
                    await self._tool_delta(delta)
                elif isinstance(delta, llm.StreamEnd):
                    final = delta.response
        if final is None:
            raise llm.LlmResponseError("the model's stream ended without a final response")
        return final

    async def _tool_delta(self, delta: llm.ToolCallDelta) -> None:
        call = self.calls.setdefault(delta.index, _Call())
        call.id = call.id or delta.id
        call.name = call.name or delta.name
        call.args += delta.arguments_fragment or ""
        await self._reasoning(call.thoughts.feed(call.args))
        index = 1 + delta.index
        if call.name == self.req.assistant_tool and self.req.use_assistant_message:
            piece = call.message.feed(call.args) if self.req.assistant_kwarg == "message" else ""
            if piece:
                await self._send(AssistantMessage(**self._env(index), content=piece))
            return
        if call.name is None:
            return
        fragment = delta.arguments_fragment or ""
        if not call.announced or fragment:
            await self._send(ToolCallMessage(**self._env(index), tool_call=ToolCall(
                name=call.name if not call.announced else None, arguments=fragment, tool_call_id=call.id)))
            call.announced = True
