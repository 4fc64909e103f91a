"""A loopback fake of the parts of E2B's HTTP API that ``e2b-code-interpreter`` calls.

Implemented (and nothing else), as read from e2b 2.63 / e2b-code-interpreter 2.11.5:

* ``POST /v2/sandboxes``           -> 201 ``{"templateID","sandboxID","clientID","envdVersion","envdAccessToken"}``
* ``DELETE /sandboxes/{id}``        -> 204, or 404 for an unknown sandbox
* ``POST /execute`` (sandbox URL)   -> NDJSON lines ``stdout`` / ``stderr`` / ``error`` / ``end_of_execution``;
  the sandbox is named by the ``E2b-Sandbox-Id`` header.

Posted code really runs, in a fresh ``python -I -`` subprocess with only the posted
``env_vars`` (plus PATH), so tests exercise real execution.  It is not a Jupyter
kernel: state does not persist between cells.

Usage::

    async with running_fake_e2b() as fake:
        AsyncSandbox.create(api_key="x", api_url=fake.url, sandbox_url=fake.url)
"""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

import anyio
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route


@dataclass
class FakeE2BState:
    url: str = ""
    created: list[dict] = field(default_factory=list)
    killed: list[str] = field(default_factory=list)
    executions: list[dict] = field(default_factory=list)
    live: set[str] = field(default_factory=set)
    api_keys: list[str] = field(default_factory=list)


def _line(kind: str, **data: object) -> str:
    return json.dumps({"type": kind, **data}) + "\n"


def build_app(state: FakeE2BState) -> Starlette:
    async def create(request: Request) -> Response:
        body = await request.json()
        state.api_keys.append(request.headers.get("x-api-key", ""))
        sandbox_id = f"fake-{uuid.uuid4().hex[:12]}"
        state.created.append({"id": sandbox_id, **body})
        state.live.add(sandbox_id)
        return JSONResponse(
            {
                "templateID": body.get("templateID", "code-interpreter-v1"),
                "sandboxID": sandbox_id,
                "clientID": "fake-client",
                "envdVersion": "0.4.0",
                "envdAccessToken": "fake-token",
            },
            status_code=201,
        )

    async def kill(request: Request) -> Response:
        sandbox_id = request.path_params["sandbox_id"]
        if sandbox_id not in state.live:
            return JSONResponse({"code": 404, "message": "not found"}, status_code=404)
        state.live.discard(sandbox_id)
        state.killed.append(sandbox_id)
        return Response(status_code=204)

    async def execute(request: Request) -> Response:
        body = await request.json()
        sandbox_id = request.headers.get("e2b-sandbox-id", "")
        if sandbox_id not in state.live:
            return JSONResponse({"code": 404, "message": f"sandbox {sandbox_id} not found"}, status_code=404)
        state.executions.append({"sandbox_id": sandbox_id, **body})
        env = {"PATH": "/usr/bin:/bin", "PYTHONIOENCODING": "utf-8"}
        env.update(body.get("env_vars") or {})

        async def stream() -> AsyncIterator[str]:
            yield _line("number_of_executions", execution_count=len(state.executions))
            async with await anyio.open_process(
                [sys.executable, "-I", "-"], env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE
            ) as proc:
                try:
                    assert proc.stdin and proc.stdout and proc.stderr
                    await proc.stdin.send(body["code"].encode())
                    await proc.stdin.aclose()
                    out, err = bytearray(), bytearray()

                    async def drain(src, dst: bytearray) -> None:
                        async for chunk in src:
                            dst.extend(chunk)

                    async with anyio.create_task_group() as tg:
                        tg.start_soon(drain, proc.stdout, out)
                        tg.start_soon(drain, proc.stderr, err)
                    code = await proc.wait()
                finally:
                    if proc.returncode is None:
                        proc.kill()
            now = time.time()
            if out:
                yield _line("stdout", text=out.decode(errors="replace"), timestamp=now)
            if err:
                yield _line("stderr", text=err.decode(errors="replace"), timestamp=now)
            if code != 0:
                tail = err.decode(errors="replace").strip().splitlines()
                last = tail[-1] if tail else f"exit code {code}"
                name, _, value = last.partition(": ")
                yield _line("error", name=name, value=value, traceback=err.decode(errors="replace"))
            yield _line("end_of_execution")

        return StreamingResponse(stream(), media_type="application/x-ndjson")

    return Starlette(
        routes=[
            Route("/v2/sandboxes", create, methods=["POST"]),
            Route("/sandboxes/{sandbox_id}", kill, methods=["DELETE"]),
            Route("/execute", execute, methods=["POST"]),
        ]
    )


@asynccontextmanager
async def running_fake_e2b() -> AsyncIterator[FakeE2BState]:
    """Serve the fake on 127.0.0.1 at a free port for the duration of the block."""
    state = FakeE2BState()
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    state.url = f"http://127.0.0.1:{sock.getsockname()[1]}"
    server = uvicorn.Server(uvicorn.Config(build_app(state), log_level="warning", lifespan="off"))
    async with anyio.create_task_group() as tg:
        tg.start_soon(server.serve, [sock])
        with anyio.fail_after(10):
            while not server.started:
                await anyio.sleep(0.01)
        try:
            yield state
        finally:
            server.should_exit = True
    sock.close()
