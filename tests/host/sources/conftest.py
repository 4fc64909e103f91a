"""Fixtures for the sources area: the real letta-client SDK against the session server, agents and sources
that clean up after themselves, an embedding "gate" that can hold requests, and a job waiter."""

from __future__ import annotations

import base64
import json
import struct
import threading
import uuid
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import pytest
from letta_client import Letta

from tests.support.scripted_llm import embed_text
from tests.support.server import ServerProcess
from tests.support.waiting import wait_until

EMBEDDING = "openai/text-embedding-3-small"
TERMINAL = ("completed", "failed", "cancelled")


@pytest.fixture(scope="session")
def client(server: ServerProcess) -> Letta:
    return Letta(base_url=server.base_url, timeout=60)


@pytest.fixture
def unique() -> Callable[[str], str]:
    token = uuid.uuid4().hex[:8]
    return lambda prefix: f"{prefix}-{token}"


@pytest.fixture
def make_agent(http: httpx.Client, unique: Callable[[str], str]) -> Iterator[Callable[..., dict[str, Any]]]:
    created: list[str] = []

    def make(**body: Any) -> dict[str, Any]:
        body.setdefault("name", unique("agent") + f"-{len(created)}")
        body.setdefault("model", "openai-proxy/gpt-4o-mini")
        body.setdefault("embedding", EMBEDDING)
        body.setdefault("memory_blocks", [{"label": "human", "value": "Name: Ada"},
                                          {"label": "persona", "value": "A careful assistant."}])
        resp = http.post("/v1/agents/", json=body)
        assert resp.status_code == 200, resp.text
        created.append(resp.json()["id"])
        return resp.json()

    yield make
    for agent_id in created:
        http.delete(f"/v1/agents/{agent_id}")


@pytest.fixture
def make_source(client: Letta, http: httpx.Client, unique: Callable[[str], str]) -> Iterator[Callable[..., Any]]:
    created: list[str] = []

    def make(**kwargs: Any) -> Any:
        kwargs.setdefault("name", unique("source") + f"-{len(created)}")
        if "embedding_config" not in kwargs:
            kwargs.setdefault("embedding", EMBEDDING)
        source = client.sources.create(**kwargs)
        created.append(source.id)
        return source

    yield make
    for source_id in created:
        http.delete(f"/v1/sources/{source_id}")


def wait_for_job(client: Letta, job_id: str, timeout: float = 30.0, until: tuple[str, ...] = TERMINAL) -> Any:
    """Poll GET /v1/jobs/{id} until the job reaches one of ``until``; fail after ``timeout`` seconds."""
    seen: list[Any] = []

    def reached() -> Any:
        seen[:] = [client.jobs.retrieve(job_id)]
        return seen[0] if seen[0].status in until else None

    return wait_until(reached, timeout=timeout,
                      what=lambda: f"job {job_id} to reach {until} (still {seen[0].status}: {seen[0].metadata})")


class EmbeddingGate:
    """An OpenAI-compatible /v1/embeddings server that can hold requests until released."""

    def __init__(self) -> None:
        self.hold = threading.Event()
        self.release = threading.Event()
        self.received = threading.Event()
        self.count = 0
        gate = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def do_POST(self) -> None:  # noqa: N802
                body = json.loads(self.rfile.read(int(self.headers.get("content-length") or 0)) or b"{}")
                gate.count += 1
                gate.received.set()
                if gate.hold.is_set():
                    gate.release.wait(timeout=60)
                texts = body["input"] if isinstance(body["input"], list) else [body["input"]]
                dim = int(body.get("dimensions") or 1536)
                data = []
                for i, text in enumerate(texts):
                    vector: Any = embed_text(str(text), dim)
                    if body.get("encoding_format") == "base64":
                        vector = base64.b64encode(struct.pack(f"<{dim}f", *vector)).decode()
                    data.append({"object": "embedding", "index": i, "embedding": vector})
                payload = json.dumps({"object": "list", "model": body.get("model"), "data": data,
                                      "usage": {"prompt_tokens": 1, "total_tokens": 1}}).encode()
                try:
                    self.send_response(200)
                    self.send_header("content-type", "application/json")
                    self.send_header("content-length", str(len(payload)))
                    self.end_headers()
                    self.wfile.write(payload)
                except OSError:
                    pass  # the server that asked has gone away

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}/v1"

    def embedding_config(self) -> dict[str, Any]:
        return {"embedding_endpoint_type": "openai", "embedding_endpoint": self.base_url,
                "embedding_model": "text-embedding-3-small", "embedding_dim": 1536, "embedding_chunk_size": 300,
                "handle": EMBEDDING, "batch_size": 1024}


@pytest.fixture
def gate() -> Iterator[EmbeddingGate]:
    g = EmbeddingGate()
    g.thread.start()
    yield g
    g.release.set()
    g.httpd.shutdown()
    g.httpd.server_close()
