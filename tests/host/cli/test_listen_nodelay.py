"""The listening socket ``agenthost serve`` makes gives accepted connections TCP_NODELAY.

asyncio sets TCP_NODELAY only on sockets whose ``proto`` is IPPROTO_TCP; a socket made with proto 0 left
Nagle on, and a keep-alive client waited ~40 ms (its delayed ACK) for the body of every response after
the first, since uvicorn writes the headers and the body separately.
"""

from __future__ import annotations

import asyncio
import socket

import anyio

from host.cli import listen


async def _accepted_nodelay() -> list[int]:
    sock = listen("127.0.0.1", 0)
    port = sock.getsockname()[1]
    seen = anyio.Event()
    nodelay: list[int] = []

    class Probe:
        def connection_made(self, transport) -> None:  # noqa: ANN001 - asyncio protocol
            nodelay.append(transport.get_extra_info("socket").getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY))
            transport.close()
            seen.set()

        def connection_lost(self, exc) -> None:  # noqa: ANN001
            pass

        def data_received(self, data) -> None:  # noqa: ANN001
            pass

        def eof_received(self) -> None:
            pass

    server = await asyncio.get_running_loop().create_server(Probe, sock=sock)
    try:
        with anyio.fail_after(10):
            stream = await anyio.connect_tcp("127.0.0.1", port)
            await seen.wait()
            await stream.aclose()
    finally:
        server.close()
    return nodelay


def test_accepted_connections_have_nodelay() -> None:
    nodelay = anyio.run(_accepted_nodelay)
    assert nodelay and nodelay[0] != 0
