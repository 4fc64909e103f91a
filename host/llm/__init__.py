"""Calls to language and embedding models: the only package that imports litellm (lazily).

    response = await complete(LlmRequest(config, messages, tools, tool_choice="required"), settings)
    async for delta in stream(request, settings): ...      # Content/Reasoning/ToolCall deltas, StreamEnd
    vectors = await embed(embedding_config, texts, settings)

    providers.py   credentials (ProviderSettings), Letta's LLMConfig/EmbeddingConfig, handle rules
    registry.py    ProviderRegistry: the configured providers' models, handles resolved into configs
    types.py       carriers: ChatMessage, ToolSpec, LlmRequest, LlmResponse, the stream deltas
    errors.py      the LlmError tree
    arguments.py   litellm's arguments per provider (model string, credentials, reasoning knobs)
    client.py      the lazy litellm import, error mapping, complete()
    stream.py      stream() and the assembly of streamed deltas
    embeddings.py  embed() and count_tokens()

Credentials come from `ProviderSettings` and are passed explicitly; nothing here reads os.environ.
"""

from host.llm.arguments import provider_payload
from host.llm.client import after_warm_up, complete, warm_up
from host.llm.embeddings import count_tokens, embed
from host.llm.errors import (
    LlmConfigError,
    LlmConnectionError,
    LlmContextWindowError,
    LlmError,
    LlmProviderError,
    LlmResponseError,
    LlmTimeoutError,
)
from host.llm.stream import stream
from host.llm.types import (
    ChatMessage,
    ContentDelta,
    LlmDelta,
    LlmRequest,
    LlmResponse,
    ReasoningDelta,
    StreamEnd,
    ToolCall,
    ToolCallDelta,
    ToolChoice,
    ToolSpec,
    Usage,
)

__all__ = [
    "after_warm_up", "provider_payload",
    "ChatMessage", "ContentDelta", "LlmConfigError", "LlmConnectionError", "LlmContextWindowError", "LlmDelta",
    "LlmError", "LlmProviderError", "LlmRequest", "LlmResponse", "LlmResponseError", "LlmTimeoutError",
    "ReasoningDelta", "StreamEnd", "ToolCall", "ToolCallDelta", "ToolChoice", "ToolSpec", "Usage", "complete",
    "count_tokens", "embed", "stream", "warm_up",
]
