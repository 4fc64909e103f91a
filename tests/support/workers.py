"""Reach one chosen worker process of an `agenthost serve --workers N`.

The workers share one listening socket and the kernel hands each new connection to whichever worker accepts
it first. A connection's server side is a socket in exactly one worker's file table, so a test opens
connections until one is accepted by the worker it wants (found with psutil), then sends its requests there.
"""

from __future__ import annotations

import http.client
import json
import time
from typing import Any

import psutil

from tests.support.server import ServerProcess
from tests.support.waiting import wait_until


def worker_pids(server: ServerProcess) -> list[int]:
    """The uvicorn worker processes (the supervisor's spawned children; not its resource tracker)."""
    assert server.proc is not None
    children = psutil.Process(server.proc.pid).children(recursive=False)
    return sorted(c.pid for c in children if _is_worker(c))


def _is_worker(proc: psutil.Process) -> bool:
    try:
        return "spawn_main" in " ".join(proc.cmdline())
    except psutil.Error:  # exited meanwhile
        return False


def owner_of(server: ServerProcess, client_port: int) -> int | None:
    for pid in worker_pids(server):
        try:
            conns = psutil.Process(pid).net_connections(kind="tcp")
        except psutil.Error:
            continue
        if any(c.laddr and c.raddr and c.laddr.port == server.port and c.raddr.port == client_port for c in conns):
            return pid
    return None


class WorkerConnection:
    """One HTTP/1.1 keep-alive connection, accepted by the worker ``pid``. When the worker has closed it
    (uvicorn closes connections idle for 5 s) the request goes over a new connection to the same worker."""

    def __init__(self, server: ServerProcess, conn: http.client.HTTPConnection, pid: int) -> None:
        self.server, self.conn, self.pid = server, conn, pid

    def request(self, method: str, path: str, body: Any = None) -> tuple[int, Any]:
        payload = None if body is None else json.dumps(body).encode()
        headers = {"Content-Type": "application/json"} if payload is not None else {}
        try:
            self.conn.request(method, path, body=payload, headers=headers)
            resp = self.conn.getresponse()
        except (http.client.RemoteDisconnected, BrokenPipeError, ConnectionResetError):
            self.conn.close()
            self.conn = connect(self.server, to=self.pid).conn  # closed while idle: nothing was sent to the app
            self.conn.request(method, path, body=payload, headers=headers)
            resp = self.conn.getresponse()
        raw = resp.read()
        try:
            return resp.status, json.loads(raw) if raw else None
        except ValueError:
            return resp.status, raw.decode(errors="replace")

    def close(self) -> None:
        self.conn.close()


def connect(server: ServerProcess, *, to: int | None = None, avoid: int | None = None,
            within: float = 60.0, timeout: float = 60.0) -> WorkerConnection:
    """A connection accepted by worker ``to`` (or by any worker but ``avoid``), found within ``within`` seconds
    (a worker still starting accepts nothing yet); ``timeout`` is the connection's own."""
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=timeout)
        conn.connect()
        assert conn.sock is not None
        port = conn.sock.getsockname()[1]
        found: list[int] = []

        def accepted(p: int = port, into: list[int] = found) -> bool:
            owner = owner_of(server, p)
            if owner is not None:
                into.append(owner)
            return owner is not None

        wait_until(accepted, timeout=30, what="a worker to accept the connection", poll=0.01)
        pid = found[-1]
        if (to is None or pid == to) and pid != avoid:
            return WorkerConnection(server, conn, pid)
        conn.close()
    raise AssertionError(f"no connection reached worker {to} (avoiding {avoid}) within {within} s")
