"""The MCP SDK (about 30 MB of memory: every protocol revision's pydantic types) loads only when it is needed.

A server nobody reaches over MCP, with no MCP server configured and no provider that litellm calls, never
imports it; the first request to ``/mcp`` loads it (in a worker thread) and is answered. Each case runs the
whole app under uvicorn in a fresh interpreter."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

from tests.support.scripted_llm import ScriptedLLM
from tests.support.server import server_env

SCRIPT = textwrap.dedent("""
    import asyncio, os, socket, sys
    import httpx, uvicorn
    from host.entry import build
    from host.settings import Settings

    def loaded():
        return sorted({m.split(".")[0] for m in sys.modules} & {"mcp", "mcp_types", "litellm"})

    async def main():
        sock = socket.socket()
        sock.bind(("127.0.0.1", 0))
        sock.listen(16)
        port = sock.getsockname()[1]
        server = uvicorn.Server(uvicorn.Config(build(Settings.from_env(dict(os.environ))), log_level="warning"))
        serving = asyncio.create_task(server.serve(sockets=[sock]))
        while not server.started:
            await asyncio.sleep(0.05)
        base = f"http://127.0.0.1:{port}"
        async with httpx.AsyncClient(base_url=base, timeout=60) as c:
            assert (await c.get("/v1/health/")).status_code == 200
            agent = await c.post("/v1/agents/", json={"model": "openai-proxy/lazy", "embedding":
                                                      "openai/text-embedding-3-small"})
            assert agent.status_code == 200, agent.text
            await asyncio.sleep(float(sys.argv[1]))  # longer than any start-up warm-up waits
            print("BEFORE", loaded())
            reply = await c.post("/mcp", headers={"accept": "application/json, text/event-stream"}, json={
                "jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
                    "protocolVersion": "2025-06-18", "capabilities": {},
                    "clientInfo": {"name": "lazy-test", "version": "1"}}})
            print("STATUS", reply.status_code, "agenthost" in reply.text)
            print("AFTER", loaded())
        server.should_exit = True
        await serving

    asyncio.run(main())
""")


def test_the_sdk_loads_on_the_first_request_to_mcp(tmp_path: Path, scripted_llm: ScriptedLLM) -> None:
    env = server_env(tmp_path, scripted_llm.base_url)
    done = subprocess.run([sys.executable, "-c", SCRIPT, "3"], env=env, capture_output=True, text=True,
                          timeout=300, cwd=Path(__file__).resolve().parents[2])
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-4000:]
    lines = done.stdout.splitlines()
    assert "BEFORE []" in lines, done.stdout
    assert "STATUS 200 True" in lines, done.stdout
    assert "AFTER ['mcp', 'mcp_types']" in lines, done.stdout
