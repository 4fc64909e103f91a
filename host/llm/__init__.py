"""Calls to language and embedding models: the only package that imports litellm (lazily, and only for
providers that are not OpenAI-compatible: those are called over HTTP, ``openai_http.py``).

    response = await complete(LlmRequest(config, messages, tools, tool_choice="required"), settings)
    async for delta in stream(request, settings): ...      # Content/Reasoning/ToolCall deltas, StreamEnd
    vectors = await embed(embedding_config, texts, settings)

    providers.py   credentials (ProviderSettings), Letta's LLMConfig/EmbeddingConfig, handle rules
    registry.py    ProviderRegistry: the configured providers' models, handles resolved into configs
    types.py       carriers: ChatMessage, ToolSpec, LlmRequest, LlmResponse, the stream deltas
    errors.py      the LlmError tree
    arguments.py   litellm's arguments per provider (model string, credentials, reasoning knobs)
    client.py      the lazy litellm import, error mapping, complete()
    openai_http.py OpenAI-compatible endpoints over HTTP (aiohttp; streams: httpx, httpx-sse): no litellm import
    stream.py      stream() and the assembly of streamed deltas
    embeddings.py  embed() and count_tokens() (tiktoken's cl100k_base, litellm's bundled copy)

Credentials come from `ProviderSettings` and are passed explicitly; nothing here reads os.environ.
"""

from host.llm.arguments import provider_payload
from host.llm.client import after_warm_up, complete, warm_up
from host.llm.embeddings import count_tokens, embed, load_tokenizer, tokenizer_ready
from host.llm.errors import (
    LlmConfigError,
    LlmConnectionError,
    LlmContextWindowError,
    LlmError,
    LlmProviderError,
    LlmResponseError,
    LlmTimeoutError,
)
from host.llm.openai_http import aclose_clients
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
    "aclose_clients", "after_warm_up", "provider_payload",
    "ChatMessage", "ContentDelta", "LlmConfigError", "LlmConnectionError", "LlmContextWindowError", "LlmDelta",
    "LlmError", "LlmProviderError", "LlmRequest", "LlmResponse", "LlmResponseError", "LlmTimeoutError",
    "ReasoningDelta", "StreamEnd", "ToolCall", "ToolCallDelta", "ToolChoice", "ToolSpec", "Usage", "complete",
    "count_tokens", "embed", "load_tokenizer", "stream", "tokenizer_ready", "warm_up",
]
