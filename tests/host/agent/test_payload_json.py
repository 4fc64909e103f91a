"""The request an OpenAI-compatible call sends (``provider_payload_json``) is the payload ``preview`` shows
(``provider_payload``), and each message is encoded once however many requests carry it."""

from __future__ import annotations

import json

from host.llm.arguments import provider_payload, provider_payload_json
from host.llm.providers import LLMConfig, ProviderSettings
from host.llm.types import ChatMessage, LlmRequest, ToolCall, ToolSpec

SETTINGS = ProviderSettings(openai_api_key="sk-not-in-the-body", openai_api_base="http://127.0.0.1:9/v1")
CONFIG = LLMConfig(model="gpt-4o-mini", model_endpoint_type="openai", context_window=32000, max_tokens=256,
                   reasoning_effort="low")
HISTORY = [
    ChatMessage(role="system", content="You are Ada. «ünïcode» and \"quotes\""),
    ChatMessage(role="user", content="hi", name="ada"),
    ChatMessage(role="assistant", content=None, tool_calls=(ToolCall("call_1", "add", '{"a": 1, "b": 2}'),),
                thinking_blocks=({"type": "thinking", "thinking": "sum", "signature": "sig"},)),
    ChatMessage(role="tool", content='{"status": "OK", "message": "3"}', tool_call_id="call_1"),
]
TOOLS = [ToolSpec("add", "Add two numbers.", {"type": "object", "properties": {"a": {"type": "integer"}}})]


def test_the_encoded_request_is_the_payload_preview_shows() -> None:
    req = LlmRequest(CONFIG, HISTORY, TOOLS, tool_choice={"name": "add"}, temperature=0.2)
    body = provider_payload_json(req, SETTINGS)
    assert json.loads(body) == provider_payload(req, SETTINGS)
    assert "sk-not-in-the-body" not in body and "127.0.0.1:9" not in body  # transport stays out
    streamed = json.loads(provider_payload_json(req, SETTINGS, stream=True, stream_options={"include_usage": True}))
    assert streamed == provider_payload(req, SETTINGS) | {"stream": True, "stream_options": {"include_usage": True}}
    assert json.loads(provider_payload_json(LlmRequest(CONFIG, []), SETTINGS))["messages"] == []


def test_a_message_is_encoded_once_across_requests() -> None:
    history = [ChatMessage(role="user", content=f"message {i}") for i in range(3)]
    first = provider_payload_json(LlmRequest(CONFIG, history), SETTINGS)
    encoded = [m.__dict__["wire_json"] for m in history]  # kept on each message by the first request
    later = [*history, ChatMessage(role="user", content="a new one")]
    second = provider_payload_json(LlmRequest(CONFIG, later), SETTINGS)
    assert [m.__dict__["wire_json"] for m in history] == encoded and all(
        a is b for a, b in zip((m.__dict__["wire_json"] for m in history), encoded, strict=True))
    assert json.loads(second)["messages"] == [*json.loads(first)["messages"], {"role": "user", "content": "a new one"}]
