"""host.llm through litellm over real HTTP to loopback fakes of each provider's own API.

Anthropic (Messages API), Gemini (generateContent), Ollama (/api/chat), Azure OpenAI (deployment URLs),
Bedrock (Converse, SigV4, event-stream), and the OpenAI-compatible Groq, Together and vLLM pointed at the
scripted server through their base URLs. Each test checks what we parse *and* what the provider received.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterator
from contextlib import ExitStack, aclosing
from dataclasses import replace

import pytest

from host.llm import (
    ChatMessage,
    ContentDelta,
    LlmProviderError,
    LlmRequest,
    ReasoningDelta,
    StreamEnd,
    ToolCall,
    ToolCallDelta,
    aclose_clients,
    complete,
    embed,
    stream,
)
from host.llm.providers import ProviderSettings
from host.llm.registry import ProviderRegistry
from tests.host.agent.provider_cases import (
    FORCED,
    OPENAI_REQUIRED,
    PROVIDERS,
    REQUIRED,
    Case,
    Cases,
    authenticated,
    chat_path,
    offered_tools,
    openai_forced,
    sampling,
    tool_choice,
)
from tests.support.tool_specs import ADD, SEND_MESSAGE  # noqa: E402

pytestmark = pytest.mark.anyio


@pytest.fixture(autouse=True)
async def _pooled_clients_closed() -> AsyncIterator[None]:
    """Each test has its own event loop: close the loop's pooled HTTP clients after it, as a server's shutdown does."""
    yield
    await aclose_clients()

PROMPT = [ChatMessage("system", "You are terse."), ChatMessage("user", "hello there")]


@pytest.fixture(scope="module")
def cases() -> Iterator[Cases]:
    with ExitStack() as stack:
        yield Cases(stack)


@pytest.fixture(params=PROVIDERS)
def case(cases: Cases, request: pytest.FixtureRequest) -> Case:
    return cases.fresh(request.param)


def make_request(case: Case, **kwargs: object) -> LlmRequest:
    messages = kwargs.pop("messages", PROMPT)
    return LlmRequest(config=kwargs.pop("config", case.config), messages=messages, **kwargs)  # type: ignore[arg-type]


async def collect(case: Case, request: LlmRequest) -> list:
    async with aclosing(stream(request, case.settings)) as deltas:
        return [d async for d in deltas]


async def test_a_completion_returns_text_reasoning_and_usage_from_the_providers_format(case: Case) -> None:
    case.script.push_text("General Kenobi", reasoning="a famous greeting")

    response = await complete(make_request(case), case.settings)

    assert (response.content, response.reasoning, response.tool_calls) == ("General Kenobi", "a famous greeting", [])
    assert response.finish_reason == "stop"
    assert response.usage.total_tokens == response.usage.prompt_tokens + response.usage.completion_tokens > 0
    [call] = case.calls()
    assert call.path == chat_path(case) and authenticated(case, call)


async def test_tool_calls_and_the_required_tool_choice_cross_the_wire(case: Case) -> None:
    case.script.push_tool_calls([("add", {"a": 1, "b": 2}), ("send_message", {"message": "three"})])

    response = await complete(make_request(case, tools=[SEND_MESSAGE, ADD], tool_choice="required"), case.settings)

    assert [(c.name, json.loads(c.arguments_json)) for c in response.tool_calls] == [
        ("add", {"a": 1, "b": 2}),
        ("send_message", {"message": "three"}),
    ]
    assert len({c.id for c in response.tool_calls}) == 2 and response.finish_reason == "tool_calls"
    [body] = case.bodies()
    assert offered_tools(case.name, body) == ["send_message", "add"]
    assert tool_choice(case.name, body) == REQUIRED.get(case.name, lambda _: OPENAI_REQUIRED)("send_message")


async def test_a_named_tool_choice_forces_that_tool_in_the_providers_terms(case: Case) -> None:
    await complete(make_request(case, tools=[SEND_MESSAGE, ADD], tool_choice={"name": "add"}), case.settings)

    [body] = case.bodies()
    assert tool_choice(case.name, body) == FORCED.get(case.name, openai_forced)("add")


async def test_a_stream_yields_text_and_tool_call_deltas_then_the_assembled_response(case: Case) -> None:
    case.script.push_tool_calls([("add", {"a": 1, "b": 2}), ("send_message", {"message": "three"})], content="Sum:")

    deltas = await collect(case, make_request(case, tools=[SEND_MESSAGE, ADD], tool_choice="auto"))

    text = "".join(d.text for d in deltas if isinstance(d, ContentDelta))
    fragments: dict[int, str] = {}
    for d in deltas:
        if isinstance(d, ToolCallDelta):
            fragments[d.index] = fragments.get(d.index, "") + d.arguments_fragment
    assert text == "Sum:"
    assert [json.loads(f) for _, f in sorted(fragments.items())] == [{"a": 1, "b": 2}, {"message": "three"}]
    end = deltas[-1]
    assert isinstance(end, StreamEnd)
    assert [(c.name, json.loads(c.arguments_json)) for c in end.response.tool_calls] == [
        ("add", {"a": 1, "b": 2}),
        ("send_message", {"message": "three"}),
    ]
    assert end.response.content == "Sum:" and end.response.finish_reason == "tool_calls"
    [call] = case.calls()
    assert authenticated(case, call)


async def test_a_stream_carries_reasoning_before_the_text(case: Case) -> None:
    case.script.push_text("42", reasoning="six times seven")

    deltas = await collect(case, make_request(case))

    kinds = [d.kind for d in deltas]
    assert kinds.index("reasoning") < kinds.index("content") and kinds[-1] == "end"
    assert "".join(d.text for d in deltas if isinstance(d, ReasoningDelta)) == "six times seven"
    end = deltas[-1]
    assert (end.response.content, end.response.reasoning) == ("42", "six times seven")
    assert end.response.usage.completion_tokens > 0


async def test_temperature_and_max_tokens_of_the_llm_config_reach_the_provider(case: Case) -> None:
    config = case.config.model_copy(update={"temperature": 0.25, "max_tokens": 321})

    await complete(make_request(case, config=config), case.settings)
    await complete(make_request(case, config=config, temperature=0.5, max_tokens=77), case.settings)

    assert [sampling(case.name, b) for b in case.bodies()] == [(0.25, 321), (0.5, 77)]


async def test_a_tool_result_in_history_goes_back_in_the_providers_format(case: Case) -> None:
    history = [
        ChatMessage("system", "You add."),
        ChatMessage("user", "add 1 and 2"),
        ChatMessage("assistant", None, tool_calls=(ToolCall("toolu_abc", "add", '{"a": 1, "b": 2}'),)),
        ChatMessage("tool", "the result is 3", tool_call_id="toolu_abc", name="add"),
    ]
    case.script.push_text("It is 3.")

    response = await complete(make_request(case, messages=history, tools=[ADD]), case.settings)

    assert response.content == "It is 3."
    sent = json.dumps(case.bodies()[0])
    assert "the result is 3" in sent
    if case.name not in ("google_ai", "ollama"):  # these pair results with calls by name / by order
        assert sent.count("toolu_abc") == 2, "the call and its result carry the same id"


@pytest.mark.parametrize("streamed", [False, True])
async def test_a_provider_error_keeps_the_providers_status_and_message(case: Case, streamed: bool) -> None:
    case.script.push_error(429, "Rate limit reached for this key")

    with pytest.raises(LlmProviderError) as info:
        if streamed:
            await collect(case, make_request(case))
        else:
            await complete(make_request(case), case.settings)

    assert info.value.status_code == 429
    assert info.value.provider_message == "Rate limit reached for this key"
    assert "Rate limit reached for this key" in str(info.value)


@pytest.mark.parametrize("name", ["anthropic", "google_ai", "azure", "bedrock"])
async def test_wrong_credentials_are_the_providers_own_refusal(cases: Cases, name: str) -> None:
    case = cases.fresh(name)
    wrong = {
        "anthropic": {"anthropic_api_key": "sk-ant-wrong"},
        "google_ai": {"gemini_api_key": "wrong"},
        "azure": {"azure_api_key": "wrong"},
        "bedrock": {"aws_access_key_id": "AKIDWRONG"},
    }[name]
    settings = replace(case.settings, **wrong)

    with pytest.raises(LlmProviderError) as info:
        await complete(make_request(case), settings)

    expected = {
        "anthropic": (401, "invalid x-api-key"),
        "google_ai": (401, "API key not valid. Please pass a valid API key."),  # litellm: an AuthenticationError
        "azure": (401, "Access denied due to invalid subscription key or wrong API endpoint."),
        "bedrock": (403, "The security token included in the request is invalid."),
    }[name]
    assert (info.value.status_code, info.value.provider_message) == expected


# ---- reasoning settings, per provider ------------------------------------------------------------------
# Reasoning-capable models: for others litellm drops the settings (drop_params) rather than have them refused.
REASONING_MODELS = {
    "anthropic": "anthropic/claude-sonnet-4-20250514",
    "bedrock": "bedrock/anthropic.claude-3-7-sonnet-20250219-v1:0",
    "google_ai": "google_ai/gemini-2.5-flash",
    "azure": "azure/o4-mini",
    "groq": "groq/openai/gpt-oss-20b",
    "ollama": "ollama/llama3.1",
}


def reasoning_case(cases: Cases, name: str) -> Case:
    return replace(cases.fresh(name), handle=REASONING_MODELS[name])


def reasoner(case: Case, **update: object) -> LlmRequest:
    config = case.config.model_copy(update={"enable_reasoner": True, **update})
    return make_request(case, config=config, tools=[SEND_MESSAGE], tool_choice="required")


@pytest.mark.parametrize("name", ["anthropic", "bedrock"])
async def test_enable_reasoner_is_claudes_extended_thinking_with_its_constraints(cases: Cases, name: str) -> None:
    case = reasoning_case(cases, name)
    case.script.push_tool_call("send_message", {"message": "hi"})
    await complete(reasoner(case, max_reasoning_tokens=2048, max_tokens=1000), case.settings)
    [body] = case.bodies()

    if name == "anthropic":
        assert body["thinking"] == {"type": "enabled", "budget_tokens": 2048}
        assert (body["temperature"], body["max_tokens"]) == (1.0, 3048), "temperature 1, max_tokens above the budget"
        assert body["tool_choice"] == {"type": "auto"}, "Claude refuses a forced tool with thinking"
    else:
        assert body["additionalModelRequestFields"]["thinking"] == {"type": "enabled", "budget_tokens": 2048}
        assert (body["inferenceConfig"]["temperature"], body["inferenceConfig"]["maxTokens"]) == (1.0, 3048)
        assert body["toolConfig"]["toolChoice"] == {"auto": {}}


async def test_claude_thinking_is_left_out_after_a_tool_call_without_its_signature(cases: Cases) -> None:
    """A history from before thinking was turned on has no signed blocks: Claude would refuse thinking."""
    case = reasoning_case(cases, "anthropic")
    history = [*PROMPT, ChatMessage("assistant", None, tool_calls=(ToolCall("toolu_1", "send_message", "{}"),)),
               ChatMessage("tool", "ok", tool_call_id="toolu_1")]  # fmt: skip
    config = case.config.model_copy(update={"enable_reasoner": True, "max_reasoning_tokens": 1024})
    await complete(make_request(case, config=config, messages=history, tools=[SEND_MESSAGE]), case.settings)
    await complete(make_request(case, config=case.config.model_copy(update={"reasoning_effort": "high"})),
                   case.settings)  # fmt: skip
    first, second = case.bodies()

    assert "thinking" not in first and first["temperature"] == 0.7
    assert "thinking" not in second, "reasoning_effort is OpenAI's knob: it does not turn thinking on for Claude"


def claude_blocks(body: dict) -> list[dict]:
    """The content blocks of the last assistant message Claude received (Messages API and Converse alike)."""
    return [m for m in body["messages"] if m["role"] == "assistant"][-1]["content"]


@pytest.mark.parametrize("streamed", [False, True])
@pytest.mark.parametrize("name", ["anthropic", "bedrock"])
async def test_claudes_signed_thinking_comes_back_and_goes_out_again_before_its_tool_call(
        cases: Cases, name: str, streamed: bool) -> None:
    case = reasoning_case(cases, name)
    case.script.push_tool_call("send_message", {"message": "hi"}, reasoning="Greet them warmly.")
    first = reasoner(case, max_reasoning_tokens=1024)
    if streamed:
        end = (await collect(case, first))[-1]
        response = end.response
    else:
        response = await complete(first, case.settings)

    [block] = response.thinking_blocks
    assert block["type"] == "thinking" and block["thinking"] == "Greet them warmly."
    assert str(block["signature"]).startswith("sig-"), "the provider's signature, kept whole"

    [call] = response.tool_calls
    history = [*PROMPT, ChatMessage("assistant", None, tool_calls=(call,), thinking_blocks=response.thinking_blocks),
               ChatMessage("tool", "ok", tool_call_id=call.id)]  # fmt: skip
    case.script.push_text("done")
    await complete(make_request(case, config=first.config, messages=history, tools=[SEND_MESSAGE]), case.settings)
    sent = case.bodies()[-1]

    blocks = claude_blocks(sent)
    if name == "anthropic":
        assert sent["thinking"] == {"type": "enabled", "budget_tokens": 1024}, "thinking stays on after the call"
        assert blocks[0] == {"type": "thinking", "thinking": "Greet them warmly.", "signature": block["signature"]}
        assert blocks[1]["type"] == "tool_use"
    else:
        assert sent["additionalModelRequestFields"]["thinking"]["type"] == "enabled"
        assert blocks[0] == {"reasoningContent": {"reasoningText": {"text": "Greet them warmly.",
                                                                    "signature": block["signature"]}}}
        assert "toolUse" in blocks[1]


async def test_gemini_reasoning_is_a_thinking_config_and_thoughts_come_back_as_reasoning(cases: Cases) -> None:
    case = reasoning_case(cases, "google_ai")
    case.script.push_text("4", reasoning="two plus two")
    response = await complete(reasoner(case, max_reasoning_tokens=2048), case.settings)
    await complete(make_request(case, config=case.config.model_copy(update={"reasoning_effort": "low"})),
                   case.settings)  # fmt: skip
    first, second = case.bodies()

    assert (response.content, response.reasoning) == ("4", "two plus two")
    assert first["generationConfig"]["thinkingConfig"] == {"thinkingBudget": 2048, "includeThoughts": True}
    assert second["generationConfig"]["thinkingConfig"]["thinkingBudget"] > 0


@pytest.mark.parametrize("name", ["ollama", "azure", "groq"])
async def test_reasoning_effort_reaches_openai_style_providers(cases: Cases, name: str) -> None:
    case = reasoning_case(cases, name)
    config = case.config.model_copy(update={"reasoning_effort": "high"})
    await complete(make_request(case, config=config), case.settings)
    [body] = case.bodies()

    assert body["think"] is True if name == "ollama" else body["reasoning_effort"] == "high"


# ---- embeddings ------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("name", "handle", "path"),
    [
        ("google_ai", "google_ai/text-embedding-004", "/v1beta/models/text-embedding-004:batchEmbedContents"),
        ("ollama", "ollama/nomic-embed-text", "/api/embed"),
        ("azure", "azure/embed-small", "/openai/deployments/embed-small/embeddings"),
        ("bedrock", "bedrock/amazon.titan-embed-text-v2:0", "/model/amazon.titan-embed-text-v2:0/invoke"),
    ],
)
async def test_embeddings_go_to_the_providers_embedding_api(cases: Cases, name: str, handle: str, path: str) -> None:
    case = cases.fresh(name)
    registry = ProviderRegistry(case.settings)
    await registry.list_embedding_models()
    config = registry.resolve_embedding(handle)

    vectors = await embed(config, ["otters hold hands", "otters hold hands", "tax forms"], case.settings)

    calls = [c for c in (case.fake.calls if name == "azure" else case.fake.requests) if c.path == path]
    assert len(vectors) == 3 and len({len(v) for v in vectors}) == 1
    cosine = sum(a * b for a, b in zip(vectors[0], vectors[1], strict=False))
    assert cosine == pytest.approx(1.0) and sum(a * b for a, b in zip(vectors[0], vectors[2], strict=False)) < 0.5
    assert calls and authenticated(case, calls[0])


# ---- listings and settings -------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("name", "llm", "embedding"),
    [
        ("anthropic", "anthropic/claude-3-5-sonnet-20241022", None),
        ("google_ai", "google_ai/gemini-2.0-flash", "google_ai/text-embedding-004"),
        ("ollama", "ollama/llama3.1", "ollama/nomic-embed-text"),
        ("azure", "azure/gpt4o-prod", "azure/embed-small"),
        ("bedrock", "bedrock/anthropic.claude-3-5-sonnet-20241022-v2:0", "bedrock/amazon.titan-embed-text-v2:0"),
        ("groq", "groq/llama-3.3-70b-versatile", None),
        ("together", "together/meta-llama/Llama-3.3-70B-Instruct-Turbo", None),
    ],
)
async def test_each_configured_provider_lists_its_models_with_its_endpoint(
    cases: Cases, name: str, llm: str, embedding: str | None
) -> None:
    case = cases.fresh(name)
    registry = ProviderRegistry(case.settings)
    models = {m.handle: m for m in await registry.list_llm_models()}
    embeddings = {m.handle: m for m in await registry.list_embedding_models()}

    assert llm in models and models[llm].model_endpoint_type == name
    assert all(m.model_endpoint == models[llm].model_endpoint for m in models.values())
    assert not any("embed" in h for h in models), "embedding models are not offered as chat models"
    if embedding is not None:
        assert embedding in embeddings
    if name == "azure":  # deployments listed over HTTP, windows from the deployed model
        assert set(models) == {"azure/gpt4o-prod", "azure/o4-mini"} and models[llm].context_window == 128000
        assert embeddings[embedding].embedding_dim == 1536 and embeddings[embedding].azure_deployment == "embed-small"
        listings = [c for c in case.fake.calls if c.path == "/openai/deployments"]
        assert listings and all(c.query == {"api-version": "2023-03-15-preview"} for c in listings)


async def test_base_urls_and_lettas_variable_names_are_read_from_the_environment() -> None:
    settings = ProviderSettings.from_env({
        "ANTHROPIC_API_KEY": "a", "ANTHROPIC_BASE_URL": "http://anthropic.test",
        "GEMINI_API_KEY": "g", "GEMINI_BASE_URL": "http://gemini.test/",
        "GROQ_API_KEY": "q", "GROQ_API_BASE": "http://groq.test/v1",
        "TOGETHER_API_KEY": "t", "TOGETHER_BASE_URL": "http://together.test/v1",
        "AZURE_API_KEY": "z", "AZURE_BASE_URL": "http://azure.test",
        "AWS_ACCESS_KEY": "AKID", "AWS_SECRET_ACCESS_KEY": "s", "AWS_REGION": "eu-west-1",
        "AWS_BEDROCK_RUNTIME_ENDPOINT": "http://bedrock.test",
    })  # fmt: skip
    registry = ProviderRegistry(settings)

    endpoints = {h.split("/")[0]: registry.resolve_llm(h).model_endpoint for h in (
        "anthropic/x", "gemini/x", "groq/x", "together/x", "azure/x", "bedrock/x")}  # fmt: skip
    assert endpoints == {
        "anthropic": "http://anthropic.test", "gemini": "http://gemini.test", "groq": "http://groq.test/v1",
        "together": "http://together.test/v1", "azure": "http://azure.test", "bedrock": "http://bedrock.test",
    }  # fmt: skip
    assert settings.azure_api_version == "2024-09-01-preview" and settings.aws_access_key_id == "AKID"
    default = ProviderRegistry(ProviderSettings.from_env({"ANTHROPIC_API_KEY": "a", "GEMINI_API_KEY": "g"}))
    assert default.resolve_llm("anthropic/x").model_endpoint == "https://api.anthropic.com/v1"
    assert default.resolve_llm("gemini/x").model_endpoint == "https://generativelanguage.googleapis.com"
