"""What goes into a model call and what comes out: chat messages, tool specs, responses, stream deltas."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import Any, Literal

from host.llm.providers import LLMConfig


@dataclass(frozen=True)
class ToolCall:
    id: str
    name: str
    arguments_json: str


@dataclass(frozen=True)
class ChatMessage:
    role: Literal["system", "user", "assistant", "tool"]
    content: str | None = None
    tool_calls: tuple[ToolCall, ...] = ()
    tool_call_id: str | None = None
    name: str | None = None
    # An assistant message's signed reasoning, as the provider returned it (Anthropic / Bedrock Claude:
    # {"type": "thinking", "thinking", "signature"} or {"type": "redacted_thinking", "data"}). Claude
    # wants it back before the tool calls it led to.
    thinking_blocks: tuple[Mapping[str, Any], ...] = ()

    def wire(self) -> dict[str, Any]:
        """The message in the chat-completions format (a new dict: litellm's provider transforms may edit it)."""
        out: dict[str, Any] = {"role": self.role, "content": self.content}
        if self.tool_calls:
            out["tool_calls"] = [
                {"id": c.id, "type": "function", "function": {"name": c.name, "arguments": c.arguments_json}}
                for c in self.tool_calls
            ]
        if self.tool_call_id is not None:
            out["tool_call_id"] = self.tool_call_id
        if self.name is not None:
            out["name"] = self.name
        if self.thinking_blocks:
            out["thinking_blocks"] = [dict(b) for b in self.thinking_blocks]
        return out

    @cached_property
    def wire_json(self) -> str:
        """``wire()`` JSON-encoded, once per message: a history's messages are the same objects turn after turn
        (``host.agent.context`` keeps each stored message's), so a request encodes only its new ones."""
        return json.dumps(self.wire())


@dataclass(frozen=True)
class ToolSpec:
    name: str
    description: str
    parameters: Mapping[str, Any]  # JSON schema of the arguments object


ToolChoice = Literal["auto", "required", "none"] | Mapping[str, str] | None  # {"name": tool} forces one


@dataclass(frozen=True)
class LlmRequest:
    config: LLMConfig
    messages: Sequence[ChatMessage]
    tools: Sequence[ToolSpec] = ()
    tool_choice: ToolChoice = None
    temperature: float | None = None  # None: config.temperature
    max_tokens: int | None = None  # None: config.max_tokens
    timeout_s: float = 120.0


@dataclass(frozen=True)
class Usage:
    prompt_tokens: int = 0
    completion_tokens: int = 0
    total_tokens: int = 0


@dataclass(frozen=True)
class LlmResponse:
    content: str | None
    reasoning: str | None
    tool_calls: list[ToolCall]
    usage: Usage
    finish_reason: str | None
    raw_model: str | None
    thinking_blocks: tuple[Mapping[str, Any], ...] = ()  # see ChatMessage.thinking_blocks
    sent: str | None = None  # the request as sent (JSON) when this process encoded it: a trace stores it as is


@dataclass(frozen=True)
class ContentDelta:
    text: str
    kind: Literal["content"] = "content"


@dataclass(frozen=True)
class ReasoningDelta:
    text: str
    kind: Literal["reasoning"] = "reasoning"


@dataclass(frozen=True)
class ToolCallDelta:
    index: int
    id: str | None
    name: str | None
    arguments_fragment: str
    kind: Literal["tool_call"] = "tool_call"


@dataclass(frozen=True)
class StreamEnd:
    response: LlmResponse
    kind: Literal["end"] = "end"


LlmDelta = ContentDelta | ReasoningDelta | ToolCallDelta | StreamEnd
