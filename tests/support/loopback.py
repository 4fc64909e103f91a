"""A real HTTP server on 127.0.0.1 in a background thread, for the loopback fakes and the scripted LLM.

The socket is bound and listening before the thread starts, so clients can connect at once.
"""

from __future__ import annotations

import socket
import threading
from typing import Any, Self

import uvicorn


class LoopbackServer:
    """Subclasses set ``self.app`` (an ASGI app) in ``__init__`` and may override ``_before_stop``."""

    app: Any
    _port: int = 0
    _backlog: int = 64

    def __init__(self) -> None:
        self._sock: socket.socket | None = None
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None

    def start(self) -> Self:
        # IPPROTO_TCP explicitly: asyncio only sets TCP_NODELAY on sockets whose proto says TCP, and
        # without it every small response waits ~40 ms for a delayed ACK (Nagle).
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", self._port))
        sock.listen(self._backlog)
        self._sock = sock
        config = uvicorn.Config(self.app, log_level="warning", lifespan="off", timeout_graceful_shutdown=2)
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, kwargs={"sockets": [sock]}, daemon=True)
        self._thread.start()
        return self

    def _before_stop(self) -> None:
        """Hook: release anything that would keep requests pending."""

    def stop(self) -> None:
        if self._server is None:
            return
        self._server.should_exit = True
        self._before_stop()
        if self._thread is not None:
            self._thread.join(timeout=10)
        if self._sock is not None:
            self._sock.close()
        self._server = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def port(self) -> int:
        assert self._sock is not None, f"{type(self).__name__} is not started"
        return int(self._sock.getsockname()[1])

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"
