"""A server whose providers are all OpenAI-compatible never imports litellm (about 120 MB and seconds of CPU):
its model calls, streamed or not, its embeddings and its token counts go over HTTP and tiktoken
(host.llm.openai_http). A provider that litellm calls (Anthropic here) makes the warm-up import it, and the
MCP SDK before it.

Each case runs `agenthost`'s services in a fresh interpreter against the scripted model, takes a turn, streams
one, inserts an archival passage (an embedding) and reads the context window (a token count)."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from tests.support.scripted_llm import ScriptedLLM
from tests.support.server import server_env

SCRIPT = textwrap.dedent("""
    import asyncio, sys
    from host.app import open_services
    from host.schemas.agents import CreateAgentRequest
    from host.schemas.messages import LettaRequest, LettaStreamingRequest
    from host.settings import Settings
    import os

    async def main():
        async with open_services(Settings.from_env(dict(os.environ))) as svc:
            state, _ = await svc.agents.create(CreateAgentRequest.model_validate(
                {"model": "openai/no-litellm", "embedding": "openai/text-embedding-3-small"}))
            said = await svc.runner.send(state.id, LettaRequest.model_validate(
                {"messages": [{"role": "user", "content": "hello over http"}]}))
            assert said.stop_reason == "end_turn", said
            events = await svc.runner.stream(state.id, LettaStreamingRequest.model_validate(
                {"messages": [{"role": "user", "content": "and streamed"}], "stream_tokens": True}))
            kinds = [type(e).__name__ async for e in events.events]
            assert "StopReasonEvent" in kinds, kinds
            await svc.archival.insert(state.id, "a passage to embed")
            window = await svc.context_view(state.id)
            assert window["num_tokens_messages"] > 0, window
            await asyncio.sleep(float(sys.argv[1]))  # the runner's warm-up has run by then
        print("LITELLM", "litellm" in sys.modules)
        print("MCP SDK", "mcp_types" in sys.modules)

    asyncio.run(main())
""")


def _run(tmp_path: Path, scripted_llm: ScriptedLLM, extra: dict[str, str]) -> str:
    env = server_env(tmp_path, scripted_llm.base_url, extra=extra)
    done = subprocess.run([sys.executable, "-c", SCRIPT, "4"], env=env, capture_output=True, text=True,
                          timeout=300, cwd=Path(__file__).resolve().parents[3])
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-4000:]
    return done.stdout


def test_an_openai_compatible_server_never_imports_litellm(tmp_path: Path, scripted_llm: ScriptedLLM) -> None:
    out = _run(tmp_path, scripted_llm, {})
    assert "LITELLM False" in out
    assert "MCP SDK False" in out, "no MCP server configured and no litellm: the SDK is not loaded either"


@pytest.mark.parametrize("key", ["ANTHROPIC_API_KEY"])
def test_a_provider_litellm_calls_makes_the_warm_up_import_it(tmp_path: Path, scripted_llm: ScriptedLLM,
                                                              key: str) -> None:
    out = _run(tmp_path, scripted_llm, {key: "sk-ant-test"})
    assert "LITELLM True" in out
    # litellm imports parts of the MCP SDK on the event loop: its warm-up loads the SDK first, in its thread
    assert "MCP SDK True" in out
