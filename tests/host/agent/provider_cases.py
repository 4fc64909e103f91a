"""One table of the non-OpenAI providers for the provider tests: a loopback fake each, and where each
provider's wire format keeps the settings the tests assert on.

`start_case(name)` starts the provider's fake and returns a `Case`: the settings that point agenthost at
it, a model handle, the script queue for that model, and accessors for what litellm sent. `Cases` keeps
one started fake per provider for a whole module (stopping a server costs more than a test).
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import dataclass, replace
from typing import Any

from host.llm.providers import LLMConfig, ProviderSettings
from host.llm.registry import ProviderRegistry
from tests.support.fake_anthropic import FakeAnthropic
from tests.support.fake_azure import FakeAzure
from tests.support.fake_bedrock import FakeBedrock
from tests.support.fake_gemini import FakeGemini
from tests.support.fake_ollama import FakeOllama
from tests.support.fake_providers import FakeGroq, RecordedRequest, RecordingScriptedLLM
from tests.support.scripted_llm import ScriptQueue

PROVIDERS = ["anthropic", "google_ai", "ollama", "azure", "bedrock", "groq", "together", "vllm"]
AWS_KEY = "AKIDTEST"


@dataclass
class Case:
    name: str
    fake: Any
    settings: ProviderSettings
    handle: str
    seen_calls: int = 0  # calls before this case's test began (the fake may be shared)
    seen_bodies: int = 0

    @property
    def config(self) -> LLMConfig:
        return ProviderRegistry(self.settings).resolve_llm(self.handle)

    @property
    def model(self) -> str:
        return self.handle.partition("/")[2]

    @property
    def script(self) -> ScriptQueue:
        return self.fake.for_model(self.model)

    def calls(self) -> list[RecordedRequest]:
        """The chat calls litellm made (path, query, headers; bodies too for the non-OpenAI fakes)."""
        if isinstance(self.fake, RecordingScriptedLLM):
            return [c for c in self.fake.calls if c.path.endswith("/chat/completions")][self.seen_calls :]
        return [r for r in self.fake.requests if _is_chat(r.path)][self.seen_calls :]

    def bodies(self) -> list[dict[str, Any]]:
        if isinstance(self.fake, RecordingScriptedLLM):
            return self.fake.requests[self.seen_bodies :]
        return [r.body for r in self.calls()]


class Cases:
    """One started fake per provider, shared; `fresh(name)` is a Case that sees only the calls made after it."""

    def __init__(self, stack: ExitStack) -> None:
        self._stack = stack
        self._started: dict[str, Case] = {}

    def fresh(self, name: str) -> Case:
        if name not in self._started:
            self._started[name] = start_case(name, self._stack)
        case = self._started[name]
        return replace(case, seen_calls=len(case.calls()), seen_bodies=len(case.bodies()))


def _is_chat(path: str) -> bool:
    return path.endswith(("/v1/messages", ":generateContent", ":streamGenerateContent", "/api/chat", "/converse",
                          "/converse-stream"))  # fmt: skip


def start_case(name: str, stack: ExitStack) -> Case:
    if name == "anthropic":
        fake = stack.enter_context(FakeAnthropic(api_key="sk-ant-test"))
        settings = ProviderSettings(anthropic_api_key="sk-ant-test", anthropic_api_base=fake.url)
        return Case(name, fake, settings, "anthropic/claude-3-5-sonnet-20241022")
    if name == "google_ai":
        fake = stack.enter_context(FakeGemini(api_key="gemini-test"))
        return Case(name, fake, ProviderSettings(gemini_api_key="gemini-test", gemini_api_base=fake.url),
                    "google_ai/gemini-2.0-flash")  # fmt: skip
    if name == "ollama":
        fake = stack.enter_context(FakeOllama(models=["llama3.1", "nomic-embed-text"]))
        return Case(name, fake, ProviderSettings(ollama_base_url=fake.url), "ollama/llama3.1")
    if name == "azure":
        fake = stack.enter_context(FakeAzure(api_key="azure-test"))
        settings = ProviderSettings(azure_api_key="azure-test", azure_api_base=fake.url)
        return Case(name, fake, settings, "azure/gpt4o-prod")
    if name == "bedrock":
        fake = stack.enter_context(FakeBedrock(access_key=AWS_KEY))
        settings = ProviderSettings(aws_access_key_id=AWS_KEY, aws_secret_access_key="secret", aws_region="us-east-1",
                                    bedrock_endpoint=fake.url)  # fmt: skip
        return Case(name, fake, settings, "bedrock/anthropic.claude-3-5-sonnet-20241022-v2:0")
    fake = stack.enter_context(FakeGroq() if name == "groq" else RecordingScriptedLLM())
    if name == "groq":
        settings = ProviderSettings(groq_api_key="gsk-test", groq_api_base=fake.base_url)
        return Case(name, fake, settings, "groq/llama-3.3-70b-versatile")
    if name == "together":
        settings = ProviderSettings(together_api_key="tg-test", together_api_base=fake.base_url)
        return Case(name, fake, settings, "together/meta-llama/Llama-3.3-70B-Instruct-Turbo")
    assert name == "vllm", name
    return Case(name, fake, ProviderSettings(vllm_api_base=fake.base_url), "vllm/Qwen/Qwen2.5-7B-Instruct")


# ---- where each wire format keeps things -----------------------------------------------------------------
def sampling(name: str, body: dict[str, Any]) -> tuple[float, int]:
    """(temperature, max tokens) as sent."""
    if name == "google_ai":
        config = body["generationConfig"]
        return config["temperature"], config["max_output_tokens"]
    if name == "ollama":
        return body["options"]["temperature"], body["options"]["num_predict"]
    if name == "bedrock":
        return body["inferenceConfig"]["temperature"], body["inferenceConfig"]["maxTokens"]
    return body["temperature"], body["max_tokens"]


def offered_tools(name: str, body: dict[str, Any]) -> list[str]:
    if name == "anthropic":
        return [t["name"] for t in body["tools"]]
    if name == "google_ai":
        return [d["name"] for t in body["tools"] for d in t["function_declarations"]]
    if name == "bedrock":
        return [t["toolSpec"]["name"] for t in body["toolConfig"]["tools"]]
    return [t["function"]["name"] for t in body["tools"]]


def tool_choice(name: str, body: dict[str, Any]) -> Any:
    if name == "anthropic":
        return body.get("tool_choice")
    if name == "google_ai":
        return (body.get("toolConfig") or {}).get("functionCallingConfig")
    if name == "bedrock":
        return body["toolConfig"].get("toolChoice")
    return body.get("tool_choice")


# What "required" and {"name": tool} become in each format (Ollama has no tool choice: litellm drops it).
REQUIRED: dict[str, Callable[[str], Any]] = {
    "anthropic": lambda tool: {"type": "any"},
    "google_ai": lambda tool: {"mode": "ANY"},
    "bedrock": lambda tool: {"any": {}},
    "ollama": lambda tool: None,
}
FORCED: dict[str, Callable[[str], Any]] = {
    "anthropic": lambda tool: {"type": "tool", "name": tool},
    "google_ai": lambda tool: {"mode": "ANY", "allowed_function_names": [tool]},
    "bedrock": lambda tool: {"tool": {"name": tool}},
    "ollama": lambda tool: None,
}
OPENAI_REQUIRED = "required"


def openai_forced(tool: str) -> dict[str, Any]:
    return {"type": "function", "function": {"name": tool}}


def authenticated(case: Case, call: RecordedRequest) -> bool:
    """The call carries the provider's credentials the way the provider wants them."""
    h = call.headers
    return {
        "anthropic": lambda: h.get("x-api-key") == "sk-ant-test" and h.get("anthropic-version") == "2023-06-01",
        "google_ai": lambda: h.get("x-goog-api-key") == "gemini-test",
        "ollama": lambda: "authorization" not in h,
        "azure": lambda: h.get("api-key") == "azure-test" and call.query.get("api-version") == "2024-09-01-preview",
        "bedrock": lambda: h["authorization"].startswith(f"AWS4-HMAC-SHA256 Credential={AWS_KEY}/")
        and "/us-east-1/bedrock/aws4_request" in h["authorization"],
        "groq": lambda: h.get("authorization") == "Bearer gsk-test",
        "together": lambda: h.get("authorization") == "Bearer tg-test",
        "vllm": lambda: True,
    }[case.name]()


def chat_path(case: Case) -> str:
    return {
        "anthropic": "/v1/messages",
        "google_ai": f"/v1beta/models/{case.model}:generateContent",
        "ollama": "/api/chat",
        "azure": f"/openai/deployments/{case.model}/chat/completions",
        "bedrock": f"/model/{case.model}/converse",
    }.get(case.name, "/v1/chat/completions")
