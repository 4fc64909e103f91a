"""A real ``agenthost serve`` configured with one non-OpenAI provider only, its HTTP API a loopback fake.

For Anthropic, Gemini, Ollama, Azure OpenAI and Bedrock: the provider's models are listed, an agent on it
answers over REST (plain and token-streamed) and the turn is persisted, a tool step round-trips its
result in the provider's format, and a provider error is a 502 carrying the provider's message.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass

import httpx
import pytest

from tests.conftest import test_database_uri
from tests.host.agent.conftest import history, send, sse_events
from tests.host.agent.provider_cases import AWS_KEY, Case, authenticated, offered_tools, start_case
from tests.support.server import ServerProcess, server_env

SERVED = {  # provider -> (environment pointing at the fake, agent model, embedding model or None)
    "anthropic": (lambda url: {"ANTHROPIC_API_KEY": "sk-ant-test", "ANTHROPIC_BASE_URL": url},
                  "anthropic/claude-3-5-sonnet-20241022", None),
    "google_ai": (lambda url: {"GEMINI_API_KEY": "gemini-test", "GEMINI_BASE_URL": url},
                  "google_ai/gemini-2.0-flash", "google_ai/text-embedding-004"),
    "ollama": (lambda url: {"OLLAMA_BASE_URL": url}, "ollama/llama3.1", "ollama/nomic-embed-text"),
    "azure": (lambda url: {"AZURE_API_KEY": "azure-test", "AZURE_BASE_URL": url},
              "azure/gpt4o-prod", "azure/embed-small"),
    "bedrock": (lambda url: {"AWS_ACCESS_KEY_ID": AWS_KEY, "AWS_SECRET_ACCESS_KEY": "secret", "AWS_REGION": "us-east-1",
                             "AWS_BEDROCK_RUNTIME_ENDPOINT": url},
                "bedrock/anthropic.claude-3-5-sonnet-20241022-v2:0", "bedrock/amazon.titan-embed-text-v2:0"),
}  # fmt: skip


@dataclass
class Deployed:
    case: Case
    http: httpx.Client
    server: ServerProcess
    handle: str
    embedding: str | None

    def make_agent(self) -> dict:
        body = {"model": self.handle, "memory_blocks": [{"label": "human", "value": "Name: Ada"},
                                                        {"label": "persona", "value": "A careful assistant."}]}  # fmt: skip
        if self.embedding:
            body["embedding"] = self.embedding
        resp = self.http.post("/v1/agents/", json=body)
        assert resp.status_code == 200, resp.text
        return resp.json()


@pytest.fixture(scope="module", params=list(SERVED))
def deployed(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Deployed]:
    name = request.param
    environment, handle, embedding = SERVED[name]
    with ExitStack() as stack:
        case = start_case(name, stack)
        home = tmp_path_factory.mktemp(f"provider-{name}")
        env = server_env(home, None, pg_uri=test_database_uri(), extra=environment(case.fake.url))
        server = stack.enter_context(ServerProcess(home=home, env=env))
        http = stack.enter_context(httpx.Client(base_url=server.base_url, timeout=60))
        yield Deployed(case, http, server, handle, embedding)


def test_models_lists_the_configured_provider_only(deployed: Deployed) -> None:
    llms = [m["handle"] for m in deployed.http.get("/v1/models/").json()]
    embeddings = [m["handle"] for m in deployed.http.get("/v1/models/embedding").json()]

    prefix = deployed.case.name + "/"
    assert deployed.handle in llms and all(h.startswith(prefix) for h in llms), llms
    assert all(h.startswith(prefix) for h in embeddings)
    if deployed.embedding:
        assert deployed.embedding in embeddings


def test_an_agent_on_the_provider_answers_and_the_turn_is_persisted(deployed: Deployed) -> None:
    agent = deployed.make_agent()
    assert agent["llm_config"]["model_endpoint_type"] == deployed.case.name
    seen = len(deployed.case.bodies())

    resp = send(deployed.http, agent["id"], "hello from the provider tests")

    assert resp.status_code == 200, resp.text
    body = resp.json()
    [answer] = [m for m in body["messages"] if m["message_type"] == "assistant_message"]
    assert answer["content"] == "hello from the provider tests"
    stored = history(deployed.http, agent["id"])
    assert [m["id"] for m in stored if m["message_type"] == "assistant_message"] == [answer["id"]]
    assert any(m["message_type"] == "user_message" and "hello from the provider tests" in m["content"] for m in stored)
    [request] = deployed.case.bodies()[seen:]
    assert "send_message" in offered_tools(deployed.case.name, request)
    assert authenticated(deployed.case, deployed.case.calls()[-1])


def test_a_tool_step_round_trips_its_result_in_the_providers_format(deployed: Deployed) -> None:
    agent = deployed.make_agent()
    model = deployed.handle.partition("/")[2]
    args = {"label": "human", "content": "Likes tea.", "request_heartbeat": True}
    deployed.case.fake.for_model(model).push_tool_call("core_memory_append", args)
    seen = len(deployed.case.bodies())

    body = send(deployed.http, agent["id"], "I like tea").json()

    assert body["usage"]["step_count"] == 2, body
    assert [m["content"] for m in body["messages"] if m["message_type"] == "assistant_message"] == ["I like tea"]
    first, second = deployed.case.bodies()[seen:]
    assert "Likes tea." not in json.dumps(first) and "Likes tea." in json.dumps(second), "memory is recompiled"
    ret = next(m for m in body["messages"] if m["message_type"] == "tool_return_message")
    sent = json.dumps(second).replace('\\"', '"')  # the result may travel as a JSON string or as an object
    assert ret["status"] == "success" and '"status": "OK"' in sent, "the tool result went back to the model"
    block = deployed.http.get(f"/v1/agents/{agent['id']}/core-memory/blocks/human").json()
    assert "Likes tea." in block["value"]


def test_tokens_stream_from_the_provider_through_the_agent(deployed: Deployed) -> None:
    agent = deployed.make_agent()

    resp = deployed.http.post(f"/v1/agents/{agent['id']}/messages/stream",
                              json={"messages": [{"role": "user", "content": "stream this answer please"}],
                                    "stream_tokens": True})  # fmt: skip

    assert resp.status_code == 200, resp.text
    events = [d for _, d in sse_events(resp.text) if d != "[DONE]"]
    pieces = [d["content"] for d in events if d["message_type"] == "assistant_message"]
    assert "".join(pieces) == "stream this answer please"
    assert any(m["message_type"] == "assistant_message" and m["content"] == "stream this answer please"
               for m in history(deployed.http, agent["id"]))  # fmt: skip


@pytest.mark.parametrize("stream", [False, True])
def test_a_provider_error_is_a_502_with_the_providers_message(deployed: Deployed, stream: bool) -> None:
    agent = deployed.make_agent()
    before = len(history(deployed.http, agent["id"]))
    deployed.case.fake.for_model(deployed.handle.partition("/")[2]).push_error(503, "The model is overloaded")

    path = "/messages/stream" if stream else "/messages"
    resp = deployed.http.post(f"/v1/agents/{agent['id']}{path}", json={"messages": [{"role": "user", "content": "x"}]})

    assert resp.status_code == 502, resp.text
    assert "The model is overloaded" in resp.json()["detail"]
    assert len(history(deployed.http, agent["id"])) == before


CLAUDE_REASONERS = {"anthropic": "anthropic/claude-sonnet-4-20250514",
                    "bedrock": "bedrock/anthropic.claude-3-7-sonnet-20250219-v1:0"}


@pytest.mark.parametrize("deployed", list(CLAUDE_REASONERS), indirect=True)
def test_claude_keeps_thinking_across_a_tool_step_with_its_signed_block(deployed: Deployed) -> None:
    handle = CLAUDE_REASONERS[deployed.case.name]
    resp = deployed.http.post("/v1/agents/", json={"model": handle, "enable_reasoner": True,
                                                   "embedding": deployed.embedding,
                                                   "memory_blocks": [{"label": "human", "value": "Name: Ada"}]})
    assert resp.status_code == 200, resp.text
    agent = resp.json()
    config = agent["llm_config"]
    assert (config["enable_reasoner"], config["put_inner_thoughts_in_kwargs"], config["max_reasoning_tokens"]) == (
        True, False, 1024), "Claude reasons natively: no inner_thoughts argument (as Letta sets it)"
    deployed.case.fake.for_model(handle.partition("/")[2]).push_tool_call(
        "conversation_search", {"query": "tea", "request_heartbeat": True}, reasoning="Check what they said before.")
    seen = len(deployed.case.bodies())

    body = send(deployed.http, agent["id"], "what do I drink?").json()

    assert body["usage"]["step_count"] == 2, body
    first, second = deployed.case.bodies()[seen:]
    thinking = (lambda b: b.get("thinking")) if deployed.case.name == "anthropic" else \
        (lambda b: b["additionalModelRequestFields"].get("thinking"))
    assert thinking(first)["type"] == thinking(second)["type"] == "enabled", "thinking stays on after the tool call"
    sent = json.dumps(second)
    assert "Check what they said before." in sent and '"signature": "sig-' in sent
    shown = [m for m in history(deployed.http, agent["id"]) if m["message_type"] == "reasoning_message"]
    assert [(m["reasoning"], m["source"], (m["signature"] or "")[:4]) for m in shown] == [
        ("Check what they said before.", "reasoner_model", "sig-")]  # Claude's own thinking, signed
    assert "inner_thoughts" not in json.dumps(first), "the tools carry no inner_thoughts argument"
