"""host.llm driven through litellm over HTTP against the scripted OpenAI-compatible server."""

import json
import math
from collections.abc import AsyncIterator, Iterator
from contextlib import aclosing

import pytest

from host.llm import (
    ChatMessage,
    ContentDelta,
    LlmConnectionError,
    LlmProviderError,
    LlmRequest,
    LlmResponseError,
    LlmTimeoutError,
    ReasoningDelta,
    StreamEnd,
    ToolCall,
    ToolCallDelta,
    aclose_clients,
    complete,
    count_tokens,
    embed,
    stream,
)
from host.llm.providers import EmbeddingConfig, LLMConfig, ProviderSettings
from tests.support import ScriptedLLM
from tests.support.tool_specs import ADD, SEND_MESSAGE  # noqa: E402

pytestmark = pytest.mark.anyio


@pytest.fixture(autouse=True)
async def _pooled_clients_closed() -> AsyncIterator[None]:
    """Each test has its own event loop: close the loop's pooled HTTP clients after it, as a server's shutdown does."""
    yield
    await aclose_clients()



@pytest.fixture
def llm() -> Iterator[ScriptedLLM]:
    with ScriptedLLM() as server:
        yield server


@pytest.fixture
def settings(llm: ScriptedLLM) -> ProviderSettings:
    return ProviderSettings(openai_api_key="sk-test", openai_api_base=llm.base_url)


def make_request(llm: ScriptedLLM, model: str = "gpt-4o-mini", **kwargs: object) -> LlmRequest:
    config = LLMConfig(model=model, model_endpoint_type="openai", model_endpoint=llm.base_url, context_window=32000)
    messages = kwargs.pop("messages", [ChatMessage("system", "You are terse."), ChatMessage("user", "hello there")])
    return LlmRequest(config=config, messages=messages, **kwargs)  # type: ignore[arg-type]


async def test_plain_completion_returns_text_usage_and_model(llm: ScriptedLLM, settings: ProviderSettings) -> None:
    llm.push_text("General Kenobi")
    response = await complete(make_request(llm), settings)
    assert response.content == "General Kenobi"
    assert response.tool_calls == []
    assert response.finish_reason == "stop"
    assert response.usage.total_tokens == response.usage.prompt_tokens + response.usage.completion_tokens > 0
    body = llm.requests[0]
    assert body["model"] == "gpt-4o-mini"
    assert body["messages"] == [
        {"role": "system", "content": "You are terse."},
        {"role": "user", "content": "hello there"},
    ]
    assert body["temperature"] == 0.7 and body["max_tokens"] == 4096
    assert "tools" not in body


async def test_a_request_goes_through_the_proxy_the_environment_names(
        llm: ScriptedLLM, settings: ProviderSettings, monkeypatch: pytest.MonkeyPatch) -> None:
    """HTTP_PROXY is honoured (read when the loop's pooled client is made, as httpx does) and NO_PROXY too.
    The scripted model is the proxy here: the endpoint's own host does not resolve, so only a request sent
    through the proxy can be answered."""
    monkeypatch.setenv("HTTP_PROXY", llm.base_url.rsplit("/v1", 1)[0])
    monkeypatch.setenv("NO_PROXY", "")
    unreachable = LLMConfig(model="gpt-4o-mini", model_endpoint_type="openai", context_window=32000,
                            model_endpoint="http://model-host.invalid:9/v1")
    llm.push_text("via the proxy")
    response = await complete(LlmRequest(config=unreachable, messages=[ChatMessage("user", "hi")]), settings)
    assert response.content == "via the proxy"
    await aclose_clients()  # a new client reads the environment again: the host is now exempt
    monkeypatch.setenv("NO_PROXY", "model-host.invalid")
    with pytest.raises(LlmConnectionError):
        await complete(LlmRequest(config=unreachable, messages=[ChatMessage("user", "hi")]), settings)


async def test_reasoning_content_is_surfaced(llm: ScriptedLLM, settings: ProviderSettings) -> None:
    llm.push_text("42", reasoning="six times seven")
    response = await complete(make_request(llm), settings)
    assert (response.content, response.reasoning) == ("42", "six times seven")


async def test_tool_calls_are_offered_and_parsed(llm: ScriptedLLM, settings: ProviderSettings) -> None:
    llm.push_tool_calls([("add", {"a": 1, "b": 2}), ("send_message", {"message": "three"})], content="thinking")
    request = make_request(llm, tools=[SEND_MESSAGE, ADD], tool_choice="required")
    response = await complete(request, settings)
    assert [(c.name, json.loads(c.arguments_json)) for c in response.tool_calls] == [
        ("add", {"a": 1, "b": 2}),
        ("send_message", {"message": "three"}),
    ]
    assert all(c.id.startswith("call_") for c in response.tool_calls)
    assert response.content == "thinking" and response.finish_reason == "tool_calls"
    body = llm.requests[0]
    assert [t["function"]["name"] for t in body["tools"]] == ["send_message", "add"]
    assert body["tools"][1]["function"]["parameters"] == dict(ADD.parameters)
    assert body["tool_choice"] == "required"


async def test_named_tool_choice_forces_that_function(llm: ScriptedLLM, settings: ProviderSettings) -> None:
    await complete(make_request(llm, tools=[SEND_MESSAGE], tool_choice={"name": "send_message"}), settings)
    assert llm.requests[0]["tool_choice"] == {"type": "function", "function": {"name": "send_message"}}


async def test_tool_results_round_trip_in_history(llm: ScriptedLLM, settings: ProviderSettings) -> None:
    call = ToolCall("call_1", "add", '{"a": 1, "b": 2}')
    history = [
        ChatMessage("user", "add 1 and 2"),
        ChatMessage("assistant", None, tool_calls=(call,)),
        ChatMessage("tool", "3", tool_call_id="call_1", name="add"),
    ]
    llm.push_text("It is 3.")
    await complete(make_request(llm, messages=history, tools=[ADD]), settings)
    sent = llm.requests[0]["messages"]
    function = {"name": "add", "arguments": '{"a": 1, "b": 2}'}
    assert sent[1]["tool_calls"] == [{"id": "call_1", "type": "function", "function": function}]
    assert sent[2] == {"role": "tool", "content": "3", "tool_call_id": "call_1", "name": "add"}


async def test_default_reply_echoes_last_user_message_through_send_message(
    llm: ScriptedLLM, settings: ProviderSettings
) -> None:
    response = await complete(make_request(llm, tools=[SEND_MESSAGE]), settings)
    assert [(c.name, json.loads(c.arguments_json)) for c in response.tool_calls] == [
        ("send_message", {"message": "hello there"})
    ]


async def test_stream_yields_deltas_and_assembles_text(llm: ScriptedLLM, settings: ProviderSettings) -> None:
    llm.push_text("a fairly long streamed answer", reasoning="hmm, let me think")
    deltas = [d async for d in stream(make_request(llm), settings)]
    assert isinstance(deltas[-1], StreamEnd)
    text = [d.text for d in deltas if isinstance(d, ContentDelta)]
    assert len(text) > 3 and "".join(text) == "a fairly long streamed answer"
    assert "".join(d.text for d in deltas if isinstance(d, ReasoningDelta)) == "hmm, let me think"
    end = deltas[-1].response
    assert (end.content, end.reasoning) == ("a fairly long streamed answer", "hmm, let me think")
    assert end.finish_reason == "stop"
    assert end.usage.completion_tokens > 0
    assert llm.requests[0]["stream"] is True


async def test_stream_assembles_multiple_tool_calls_from_argument_fragments(
    llm: ScriptedLLM, settings: ProviderSettings
) -> None:
    args_a = {"a": 10, "b": 32}
    args_b = {"message": "the answer is forty-two, as computed"}
    llm.push_tool_calls([("add", args_a), ("send_message", args_b)])
    deltas = [d async for d in stream(make_request(llm, tools=[SEND_MESSAGE, ADD]), settings)]
    calls = [d for d in deltas if isinstance(d, ToolCallDelta)]
    assert len([d for d in calls if d.index == 1 and d.arguments_fragment]) >= 3  # arguments arrived in pieces
    assert [d.name for d in calls if d.name] == ["add", "send_message"]
    end = deltas[-1]
    assert isinstance(end, StreamEnd)
    assembled = [(c.name, json.loads(c.arguments_json)) for c in end.response.tool_calls]
    assert assembled == [("add", args_a), ("send_message", args_b)]
    assert end.response.tool_calls[0].id != end.response.tool_calls[1].id
    assert end.response.finish_reason == "tool_calls"


async def test_stream_closed_early_leaves_the_client_usable(llm: ScriptedLLM, settings: ProviderSettings) -> None:
    llm.push_text("a long answer that the consumer abandons after the first delta")
    async with aclosing(stream(make_request(llm), settings)) as deltas:
        async for delta in deltas:
            assert isinstance(delta, ContentDelta)
            break
    llm.push_text("next")
    assert (await complete(make_request(llm), settings)).content == "next"


async def test_provider_error_carries_status_and_message_without_retrying(
    llm: ScriptedLLM, settings: ProviderSettings
) -> None:
    llm.push_error(500, "upstream exploded")
    with pytest.raises(LlmProviderError) as info:
        await complete(make_request(llm), settings)
    assert (info.value.status_code, info.value.provider_message) == (500, "upstream exploded")
    assert "upstream exploded" in str(info.value)
    assert len(llm.requests) == 1  # no hidden retries


async def test_stream_provider_error_is_raised_before_any_delta(llm: ScriptedLLM, settings: ProviderSettings) -> None:
    llm.push_error(429, "slow down")
    with pytest.raises(LlmProviderError) as info:
        [d async for d in stream(make_request(llm), settings)]
    assert (info.value.status_code, info.value.provider_message) == (429, "slow down")
    assert len(llm.requests) == 1


async def test_unreachable_provider_raises_connection_error(llm: ScriptedLLM) -> None:
    request = make_request(llm)
    llm.stop()
    with pytest.raises(LlmConnectionError) as info:
        await complete(request, ProviderSettings(openai_api_key="sk-test"))
    assert info.value.status_code is None


async def test_slow_provider_raises_timeout_and_other_requests_proceed(
    llm: ScriptedLLM, settings: ProviderSettings
) -> None:
    llm.for_model("slow").push_delay(30).push_text("too late")
    with pytest.raises(LlmTimeoutError) as info:
        await complete(make_request(llm, model="slow", timeout_s=0.5), settings)
    assert info.value.timeout_s == 0.5
    llm.push_text("fast")
    assert (await complete(make_request(llm), settings)).content == "fast"


async def test_slow_stream_raises_timeout(llm: ScriptedLLM, settings: ProviderSettings) -> None:
    llm.push_delay(30)
    with pytest.raises(LlmTimeoutError):
        [d async for d in stream(make_request(llm, timeout_s=0.5), settings)]


async def test_garbage_answer_raises_response_error(llm: ScriptedLLM, settings: ProviderSettings) -> None:
    llm.push_garbage()
    with pytest.raises(LlmResponseError, match="not valid JSON"):
        await complete(make_request(llm), settings)


async def test_garbage_stream_raises_response_error(llm: ScriptedLLM, settings: ProviderSettings) -> None:
    llm.push_garbage()  # not an event stream: the call says so, naming what came instead
    with pytest.raises(LlmResponseError, match="did not answer with an event stream.*application/json"):
        [d async for d in stream(make_request(llm), settings)]


async def test_per_model_queues_keep_parallel_agents_apart(llm: ScriptedLLM, settings: ProviderSettings) -> None:
    llm.for_model("agent-a").push_text("for a")
    llm.for_model("agent-b").push_text("for b")
    llm.push_text("shared")
    assert (await complete(make_request(llm, model="agent-b"), settings)).content == "for b"
    assert (await complete(make_request(llm, model="agent-a"), settings)).content == "for a"
    assert (await complete(make_request(llm, model="other"), settings)).content == "shared"
    assert [r["model"] for r in llm.requests_for("agent-a")] == ["agent-a"]


async def test_embed_batches_and_similar_texts_are_near(llm: ScriptedLLM, settings: ProviderSettings) -> None:
    config = EmbeddingConfig(
        embedding_endpoint_type="openai",
        embedding_endpoint=llm.base_url,
        embedding_model="text-embedding-3-small",
        embedding_dim=1536,
        batch_size=2,
    )
    texts = ["the cat sat on the mat", "a cat sat on a mat", "quarterly revenue grew", "x"]
    vectors = await embed(config, texts, settings)
    assert [len(v) for v in vectors] == [1536] * 4
    assert [len(r["input"]) for r in llm.embedding_requests] == [2, 2]

    def cosine(a: list[float], b: list[float]) -> float:
        return sum(x * y for x, y in zip(a, b, strict=False)) / math.sqrt(sum(x * x for x in a) * sum(y * y for y in b))

    assert cosine(vectors[0], vectors[1]) >= 0.5  # four shared words of six
    assert abs(cosine(vectors[0], vectors[2])) < 0.2  # nothing shared
    assert vectors == await embed(config, texts, settings)  # deterministic


async def test_embed_provider_error_is_mapped(llm: ScriptedLLM, settings: ProviderSettings) -> None:
    config = EmbeddingConfig(embedding_endpoint_type="openai", embedding_endpoint="http://127.0.0.1:9/v1",
                             embedding_model="text-embedding-3-small", embedding_dim=1536)  # fmt: skip
    with pytest.raises(LlmConnectionError):
        await embed(config, ["hello"], settings, timeout_s=5)


async def test_count_tokens_grows_with_text_and_messages() -> None:
    short = count_tokens("gpt-4o-mini", text="hello")
    long = count_tokens("gpt-4o-mini", text="hello " * 100)
    assert 0 < short < long
    messages = [ChatMessage("user", "hello"), ChatMessage("assistant", None, tool_calls=(ToolCall("c", "f", "{}"),))]
    assert count_tokens("gpt-4o-mini", messages=messages) > short
