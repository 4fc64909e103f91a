"""tools/call latency through McpPool vs a direct mcp SDK ClientSession, stdio and streamable HTTP.

Run: `python bench/bench_mcp.py [--calls 300]`. Uses tests/peers/peer_server.py (echo) as the server;
the HTTP server runs on 127.0.0.1. Prints p50/p99 per path and the pool's added latency.
"""

from __future__ import annotations

import argparse
import socket
import statistics
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path

import anyio
from anyio.streams.text import TextReceiveStream

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from mcp import ClientSession, StdioServerParameters, stdio_client  # noqa: E402
from mcp.client._probe import negotiate_auto  # noqa: E402
from mcp.client.streamable_http import streamable_http_client  # noqa: E402

from mcp_client import McpPool, McpServerConfig, PoolSettings  # noqa: E402

PEER = ROOT / "tests" / "peers" / "peer_server.py"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@asynccontextmanager
async def http_peer() -> AsyncIterator[str]:
    port = _free_port()
    cmd = [sys.executable, str(PEER), "--transport", "http", "--port", str(port)]
    process = await anyio.open_process(cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    try:
        assert process.stdout is not None
        with anyio.fail_after(20):
            async for chunk in TextReceiveStream(process.stdout):
                if "READY" in chunk:
                    break
        yield f"http://127.0.0.1:{port}/mcp"
    finally:
        process.terminate()
        with anyio.move_on_after(5):
            await process.wait()
        await process.aclose()


async def measure(call: Callable[[], Awaitable[object]], calls: int) -> list[float]:
    for _ in range(20):  # warm-up
        await call()
    samples = []
    for _ in range(calls):
        start = time.perf_counter()
        await call()
        samples.append((time.perf_counter() - start) * 1000)
    return samples


async def direct_stdio(calls: int) -> list[float]:
    params = StdioServerParameters(command=sys.executable, args=[str(PEER)])
    async with stdio_client(params) as (read, write), ClientSession(read, write) as session:
        await negotiate_auto(session)
        return await measure(lambda: session.call_tool("echo", {"text": "x"}), calls)


async def direct_http(url: str, calls: int) -> list[float]:
    async with streamable_http_client(url) as (read, write), ClientSession(read, write) as session:
        await negotiate_auto(session)
        return await measure(lambda: session.call_tool("echo", {"text": "x"}), calls)


async def via_pool(config: McpServerConfig, calls: int) -> list[float]:
    async with McpPool([config], settings=PoolSettings(ping_interval_s=3600)) as pool:
        status = await pool.wait_ready(config.name, 20)
        assert status.state == "ready", status.last_error

        async def call() -> None:
            result = await pool.call_tool(config.name, "echo", {"text": "x"})
            assert result.status == "success", result.text

        return await measure(call, calls)


def pct(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


async def pool_vs_direct(calls: int) -> list[tuple[str, list[float], list[float]]]:
    """(transport, direct latencies, pooled latencies) for stdio and streamable HTTP."""
    rows = []
    stdio_cfg = McpServerConfig(name="bench", transport="stdio", command=sys.executable, args=[str(PEER)])
    rows.append(("stdio", await direct_stdio(calls), await via_pool(stdio_cfg, calls)))
    async with http_peer() as url:
        http_cfg = McpServerConfig(name="bench", transport="streamable_http", url=url)
        rows.append(("streamable http", await direct_http(url, calls), await via_pool(http_cfg, calls)))
    return rows


async def main(calls: int) -> None:
    rows = await pool_vs_direct(calls)
    print(f"tools/call echo, {calls} sequential calls after 20 warm-up (ms)")
    print(f"{'transport':<16} {'direct p50':>10} {'direct p99':>10} {'pool p50':>9} {'pool p99':>9} {'added p50':>9}")
    for name, direct, pooled in rows:
        d50, d99, p50, p99 = pct(direct, 0.5), pct(direct, 0.99), pct(pooled, 0.5), pct(pooled, 0.99)
        print(f"{name:<16} {d50:>10.3f} {d99:>10.3f} {p50:>9.3f} {p99:>9.3f} {p50 - d50:>+9.3f}")
    print(f"(means: {', '.join(f'{n} direct {statistics.mean(d):.3f} / pool {statistics.mean(p):.3f}' for n, d, p in rows)})")


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--calls", type=int, default=300)
    anyio.run(main, parser.parse_args().calls)
