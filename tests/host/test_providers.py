"""host.providers: Letta-shaped configs, listings fetched over HTTP from the scripted server, handle errors."""

from collections.abc import Iterator

import anyio
import anyio.abc
import pytest

from host.llm.providers import (
    GLOBAL_MAX_CONTEXT_WINDOW,
    ContextWindowError,
    EmbeddingConfig,
    LLMConfig,
    ProviderSettings,
    UnknownHandleError,
)
from host.llm.registry import ProviderRegistry
from tests.support import ScriptedLLM

pytestmark = pytest.mark.anyio


@pytest.fixture
def llm() -> Iterator[ScriptedLLM]:
    with ScriptedLLM(models=["gpt-4o-mini", "fake-gpt", "text-embedding-3-small"]) as server:
        yield server


@pytest.fixture
def registry(llm: ScriptedLLM) -> ProviderRegistry:
    return ProviderRegistry(ProviderSettings(openai_api_key="sk-test", openai_api_base=llm.base_url))


async def test_openai_compatible_models_are_listed_from_the_server_like_letta(
    llm: ScriptedLLM, registry: ProviderRegistry
) -> None:
    models = {m.handle: m for m in await registry.list_llm_models()}
    assert set(models) == {"openai-proxy/gpt-4o-mini", "openai-proxy/fake-gpt", "openai-proxy/text-embedding-3-small"}
    assert models["openai-proxy/gpt-4o-mini"].model_dump() == {
        "model": "gpt-4o-mini",
        "model_endpoint_type": "openai",
        "model_endpoint": llm.base_url,
        "provider_name": "openai",
        "provider_category": "base",
        "model_wrapper": None,
        "context_window": 128000,
        "put_inner_thoughts_in_kwargs": True,
        "handle": "openai-proxy/gpt-4o-mini",
        "temperature": 0.7,
        "max_tokens": 4096,
        "enable_reasoner": False,
        "reasoning_effort": None,
        "max_reasoning_tokens": 0,
        "frequency_penalty": 1.0,
    }
    assert models["openai-proxy/fake-gpt"].context_window == 30000
    assert models["openai-proxy/fake-gpt"].frequency_penalty is None


async def test_listing_is_cached_between_calls(llm: ScriptedLLM, registry: ProviderRegistry) -> None:
    await registry.list_llm_models()
    await registry.list_embedding_models()
    await registry.list_llm_models()
    assert llm.model_list_calls == 1


async def test_embedding_models_listed_from_the_server_keep_the_openai_prefix(registry: ProviderRegistry) -> None:
    [config] = await registry.list_embedding_models()
    assert (config.handle, config.embedding_dim, config.batch_size) == ("openai/text-embedding-3-small", 1536, 1024)


def test_resolving_an_openai_handle_gives_letta_agent_config_with_capped_window(
    llm: ScriptedLLM, registry: ProviderRegistry
) -> None:
    config = registry.resolve_llm("openai/gpt-4o-mini")
    assert (config.handle, config.model) == ("openai-proxy/gpt-4o-mini", "gpt-4o-mini")
    assert config.model_endpoint == llm.base_url
    assert config.context_window == GLOBAL_MAX_CONTEXT_WINDOW == 32000
    assert registry.resolve_llm("openai-proxy/gpt-4o-mini", context_window_limit=64000).context_window == 64000


def test_unlisted_openai_compatible_model_names_are_accepted(registry: ProviderRegistry) -> None:
    config = registry.resolve_llm("openai/my-local-finetune")
    assert (config.model, config.context_window) == ("my-local-finetune", 30000)


def test_context_window_limit_beyond_the_model_is_rejected(registry: ProviderRegistry) -> None:
    with pytest.raises(ContextWindowError, match="at most 30000"):
        registry.resolve_llm("openai/fake-gpt", context_window_limit=100000)


async def test_unknown_handle_error_names_the_handle_and_the_valid_ones(registry: ProviderRegistry) -> None:
    await registry.list_llm_models()
    for bad in ("anthropic/claude-3-5-sonnet-20241022", "gpt-4o-mini", "openai/", "nope/x"):
        with pytest.raises(UnknownHandleError) as info:
            registry.resolve_llm(bad)
        assert info.value.handle == bad
        assert repr(bad) in str(info.value)
        assert "openai-proxy/fake-gpt" in str(info.value)
        assert "openai-proxy/fake-gpt" in info.value.known


def test_resolving_an_openai_embedding_handle_matches_letta(llm: ScriptedLLM, registry: ProviderRegistry) -> None:
    assert registry.resolve_embedding("openai/text-embedding-3-small").model_dump() == {
        "embedding_endpoint_type": "openai",
        "embedding_endpoint": llm.base_url,
        "embedding_model": "text-embedding-3-small",
        "embedding_dim": 1536,
        "embedding_chunk_size": 300,
        "handle": "openai/text-embedding-3-small",
        "batch_size": 1024,
        "azure_endpoint": None,
        "azure_version": None,
        "azure_deployment": None,
    }
    with pytest.raises(UnknownHandleError, match="'anthropic/whatever'"):
        registry.resolve_embedding("anthropic/whatever")


async def test_unreachable_listing_is_not_fatal_and_is_retried(llm: ScriptedLLM) -> None:
    registry = ProviderRegistry(ProviderSettings(openai_api_base="http://127.0.0.1:9/v1"), listing_timeout_s=2)
    assert await registry.list_llm_models() == []
    assert registry.resolve_llm("openai/anything").model_endpoint == "http://127.0.0.1:9/v1"


async def test_a_failed_listing_stands_a_while_before_the_provider_is_asked_again() -> None:
    """A provider whose listing failed is not asked again on every resolution (each create, each model list)
    until ``listing_retry_s`` has passed: a host that drops connections cost every create the listing's
    timeout. Then it is asked again, and a listing that succeeds is used."""
    asked = 0
    answer_now = False

    async def serve(stream: anyio.abc.SocketStream) -> None:
        nonlocal asked
        asked += 1
        async with stream:
            await stream.receive()
            if answer_now:
                body = b'{"object": "list", "data": [{"id": "listed-model", "object": "model"}]}'
                await stream.send(b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: "
                                  + str(len(body)).encode() + b"\r\nconnection: close\r\n\r\n" + body)
            # else: closed without an answer (the listing fails)

    listener = await anyio.create_tcp_listener(local_host="127.0.0.1")
    port = listener.extra(anyio.abc.SocketAttribute.local_port)
    async with listener, anyio.create_task_group() as tg:
        tg.start_soon(listener.serve, serve)
        registry = ProviderRegistry(ProviderSettings(openai_api_base=f"http://127.0.0.1:{port}/v1"),
                                    listing_timeout_s=2, listing_retry_s=0.5)
        for _ in range(3):
            assert [m.handle for m in await registry.list_llm_models()] == []
        assert asked == 1, "asked once, not on every listing"
        answer_now = True
        assert [m.handle for m in await registry.list_llm_models()] == []  # still within the pause
        await anyio.sleep(0.6)
        assert [m.handle for m in await registry.list_llm_models()] == ["openai-proxy/listed-model"]
        assert asked == 2
        tg.cancel_scope.cancel()


async def test_official_openai_uses_the_static_catalogue_without_network() -> None:
    registry = ProviderRegistry(ProviderSettings(openai_api_key="sk-test", anthropic_api_key="sk-ant"))
    handles = {m.handle for m in await registry.list_llm_models()}
    assert {"openai/gpt-4o-mini", "anthropic/claude-3-5-sonnet-20241022"} <= handles
    embeddings = {m.handle: m.embedding_dim for m in await registry.list_embedding_models()}
    assert embeddings["openai/text-embedding-3-large"] == 3072
    claude = registry.resolve_llm("anthropic/claude-3-5-sonnet-20241022")
    assert (claude.model_endpoint_type, claude.context_window) == ("anthropic", 32000)


async def test_ollama_models_are_listed_from_api_tags(llm: ScriptedLLM) -> None:
    base = llm.base_url.removesuffix("/v1")
    registry = ProviderRegistry(ProviderSettings(ollama_base_url=base))
    handles = {m.handle: m for m in await registry.list_llm_models()}
    assert set(handles) == {"ollama/gpt-4o-mini", "ollama/fake-gpt"}
    assert handles["ollama/fake-gpt"].model_endpoint_type == "ollama"
    assert [e.handle for e in await registry.list_embedding_models()] == ["ollama/text-embedding-3-small"]


def test_gemini_alias_resolves_to_google_ai() -> None:
    registry = ProviderRegistry(ProviderSettings(gemini_api_key="g"))
    config = registry.resolve_llm("gemini/gemini-1.5-pro", context_window_limit=1_000_000)
    assert (config.handle, config.model_endpoint_type, config.context_window) == (
        "google_ai/gemini-1.5-pro", "google_ai", 1_000_000
    )  # fmt: skip


def test_settings_read_lettas_variable_names() -> None:
    env = {
        "OPENAI_API_KEY": "sk-1",
        "OPENAI_API_BASE": "http://h/v1",
        "AZURE_BASE_URL": "https://az",
        "AWS_ACCESS_KEY_ID": "a",
        "AWS_SECRET_ACCESS_KEY": "b",
        "AWS_DEFAULT_REGION": "eu-west-1",
        "OLLAMA_BASE_URL": " ",
        "AGENTHOST_OPENAI_MODELS": "m1, m2",
    }
    settings = ProviderSettings.from_env(env)
    assert (settings.openai_api_key, settings.openai_api_base) == ("sk-1", "http://h/v1")
    assert settings.azure_api_base == "https://az"
    assert settings.bedrock_enabled and settings.aws_region == "eu-west-1"
    assert settings.ollama_base_url is None
    assert settings.openai_models == ("m1", "m2")


def test_configs_accept_letta_payloads_with_defaults() -> None:
    llm = LLMConfig(model="m", model_endpoint_type="openai", context_window=8000)
    assert (llm.temperature, llm.max_tokens, llm.put_inner_thoughts_in_kwargs) == (0.7, 4096, True)
    embedding = EmbeddingConfig(embedding_endpoint_type="openai", embedding_model="e", embedding_dim=8)
    assert (embedding.embedding_chunk_size, embedding.batch_size) == (300, 32)
