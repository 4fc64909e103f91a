"""Size limits: each one hit gives a 413 naming the limit, before the body is buffered or a model is called,
and the server's memory stays within a bound (its peak RSS, VmHWM, is asserted; no timings)."""

from __future__ import annotations

import select
import socket
import uuid
from pathlib import Path

import httpx
import pytest

MIB = 1024 * 1024
LIMITS = {"AGENTHOST_MAX_BODY_BYTES": str(256 * 1024), "AGENTHOST_MAX_UPLOAD_BYTES": str(MIB),
          "AGENTHOST_MAX_MESSAGE_CHARS": "100000", "AGENTHOST_MAX_INPUT_MESSAGES": "5"}
PEAK_GROWTH_BOUND = 64 * MIB  # the oversized requests below total more than 150 MiB


@pytest.fixture(scope="module")
def limited(scripted_llm, tmp_path_factory):
    from tests.conftest import test_database_uri
    from tests.support.server import ServerProcess, server_env

    home = tmp_path_factory.mktemp("limited")
    with ServerProcess(home=home, env=server_env(home, scripted_llm.base_url, pg_uri=test_database_uri(),
                                                 extra=LIMITS)) as proc:
        yield proc


def _peak_rss(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) * 1024
    raise AssertionError("no VmHWM")


def _connect(base_url: str) -> socket.socket:
    host, port = base_url.removeprefix("http://").split(":")
    return socket.create_connection((host, int(port)), timeout=30)


def _read_response(sock: socket.socket) -> tuple[int, bytes]:
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        assert chunk, f"connection closed before a response: {data!r}"
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    length = next(int(line.split(b":")[1]) for line in head.split(b"\r\n") if line.lower().startswith(b"content-length"))
    while len(body) < length:
        body += sock.recv(65536)
    return int(head.split()[1]), body[:length]


def _declared(base_url: str, path: str, content_type: str, size: int) -> tuple[int, bytes]:
    """Declare a body of ``size`` bytes and send none of it: the answer must come from the headers alone."""
    with _connect(base_url) as sock:
        sock.sendall(f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: {content_type}\r\n"
                     f"Content-Length: {size}\r\n\r\n".encode())
        return _read_response(sock)


def _chunked(base_url: str, path: str, content_type: str, total: int, prefix: bytes = b"") -> tuple[int, bytes, int]:
    """Stream up to ``total`` bytes chunked until the server answers; returns the bytes sent before it did."""
    piece = b"x" * (64 * 1024)
    sent = 0
    with _connect(base_url) as sock:
        sock.sendall(f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: {content_type}\r\n"
                     f"Transfer-Encoding: chunked\r\n\r\n".encode())
        if prefix:
            sock.sendall(b"%x\r\n%s\r\n" % (len(prefix), prefix))
        while sent < total and not select.select([sock], [], [], 0)[0]:
            try:
                sock.sendall(b"%x\r\n%s\r\n" % (len(piece), piece))
            except (BrokenPipeError, ConnectionResetError):
                break
            sent += len(piece)
        status, body = _read_response(sock)
        return status, body, sent


def test_a_declared_oversized_body_is_413_before_it_is_read(limited):
    before = _peak_rss(limited.proc.pid)
    status, body = _declared(limited.base_url, "/v1/agents/", "application/json", 50 * MIB)

    assert status == 413
    assert b"262144 bytes" in body and b"AGENTHOST_MAX_BODY_BYTES" in body
    assert _peak_rss(limited.proc.pid) - before < PEAK_GROWTH_BOUND


def test_a_chunked_oversized_body_is_refused_as_it_passes_the_limit(limited):
    before = _peak_rss(limited.proc.pid)
    status, body, sent = _chunked(limited.base_url, "/v1/agents/", "application/json", 50 * MIB)

    assert status == 413, body
    assert b"AGENTHOST_MAX_BODY_BYTES" in body
    assert sent < 50 * MIB  # the server answered long before the whole body was sent
    assert _peak_rss(limited.proc.pid) - before < PEAK_GROWTH_BOUND


def test_an_oversized_upload_is_refused_as_soon_as_it_passes_its_limit(limited):
    source = httpx.post(f"{limited.base_url}/v1/sources/", timeout=30,
                        json={"name": f"s-{uuid.uuid4().hex[:6]}", "embedding": "openai/text-embedding-3-small"})
    assert source.status_code == 200, source.text
    path = f"/v1/sources/{source.json()['id']}/upload"
    before = _peak_rss(limited.proc.pid)
    status, body = _declared(limited.base_url, path, "multipart/form-data; boundary=b", 200 * MIB)
    assert status == 413 and b"AGENTHOST_MAX_UPLOAD_BYTES" in body
    part = (b'--b\r\nContent-Disposition: form-data; name="file"; filename="a.txt"\r\n'
            b"Content-Type: text/plain\r\n\r\n")
    status, body, sent = _chunked(limited.base_url, path, "multipart/form-data; boundary=b", 100 * MIB, part)
    assert status == 413 and b"upload" in body and sent < 100 * MIB
    assert _peak_rss(limited.proc.pid) - before < PEAK_GROWTH_BOUND
    # within the upload limit (and over the body limit): accepted
    small = httpx.post(f"{limited.base_url}{path}", timeout=60, files={"file": ("a.txt", b"hello " * 60_000)})
    assert small.status_code == 200, small.text


def _agent(base_url: str, model: str, **extra) -> str:
    resp = httpx.post(f"{base_url}/v1/agents/", timeout=60,
                      json={"model": f"openai-proxy/{model}", "embedding": "openai/text-embedding-3-small", **extra})
    assert resp.status_code == 200, resp.text
    return str(resp.json()["id"])


@pytest.mark.parametrize("route", ["messages", "messages/stream", "messages/async"])
def test_a_message_over_the_size_limit_is_413_naming_it(limited, scripted_llm, route):
    model = f"big-{uuid.uuid4().hex[:8]}"
    agent = _agent(limited.base_url, model)
    resp = httpx.post(f"{limited.base_url}/v1/agents/{agent}/{route}", timeout=60,
                      json={"messages": [{"role": "user", "content": "y" * 100_001}]})

    assert resp.status_code == 413, resp.text
    assert "100001 characters" in resp.json()["detail"] and "AGENTHOST_MAX_MESSAGE_CHARS" in resp.json()["detail"]
    _nothing_written(limited.base_url, scripted_llm, model, agent)


def _runs(base_url: str, agent: str) -> list[dict]:
    resp = httpx.get(f"{base_url}/v1/runs/", params={"agent_ids": agent}, timeout=60)
    assert resp.status_code == 200, resp.text
    return resp.json()


def _nothing_written(base_url: str, scripted_llm, model: str, agent: str) -> None:
    """No model call, no run, no message beyond the agent's initial ones."""
    assert scripted_llm.requests_for(model) == []
    assert _runs(base_url, agent) == []
    history = httpx.get(f"{base_url}/v1/agents/{agent}/messages", params={"limit": 100}, timeout=60).json()
    assert not [m for m in history if m["message_type"] == "user_message" and "y" * 1000 in str(m["content"])]
    assert len([m for m in history if m["message_type"] == "user_message"]) <= 1  # the initial login message


@pytest.mark.parametrize("route", ["messages", "messages/stream", "messages/async"])
def test_too_many_input_messages_is_413_naming_the_limit(limited, scripted_llm, route):
    model = f"many-{uuid.uuid4().hex[:8]}"
    agent = _agent(limited.base_url, model)
    resp = httpx.post(f"{limited.base_url}/v1/agents/{agent}/{route}", timeout=60,
                      json={"messages": [{"role": "user", "content": f"m{i}"} for i in range(6)]})

    assert resp.status_code == 413, resp.text
    assert "6 input messages" in resp.json()["detail"] and "AGENTHOST_MAX_INPUT_MESSAGES" in resp.json()["detail"]
    _nothing_written(limited.base_url, scripted_llm, model, agent)


def test_a_group_message_over_the_limit_is_413_before_any_member_runs(limited, scripted_llm):
    models = [f"grp-{uuid.uuid4().hex[:8]}" for _ in range(2)]
    agents = [_agent(limited.base_url, m) for m in models]
    group = httpx.post(f"{limited.base_url}/v1/groups/", timeout=60, json={"agent_ids": agents, "description": "g"})
    assert group.status_code == 200, group.text
    for route in ("messages", "messages/stream"):
        resp = httpx.post(f"{limited.base_url}/v1/groups/{group.json()['id']}/{route}", timeout=60,
                          json={"messages": [{"role": "user", "content": "y" * 100_001}]})
        assert resp.status_code == 413, resp.text
        assert "AGENTHOST_MAX_MESSAGE_CHARS" in resp.json()["detail"]
    for model, agent in zip(models, agents, strict=True):
        _nothing_written(limited.base_url, scripted_llm, model, agent)


def test_a_batch_with_one_request_over_the_limit_is_413_and_nothing_is_queued(limited, scripted_llm):
    models = [f"bat-{uuid.uuid4().hex[:8]}" for _ in range(2)]
    agents = [_agent(limited.base_url, m) for m in models]
    before = httpx.get(f"{limited.base_url}/v1/messages/batches", timeout=60).json()
    resp = httpx.post(f"{limited.base_url}/v1/messages/batches", timeout=60, json={"requests": [
        {"agent_id": agents[0], "messages": [{"role": "user", "content": "fine"}]},
        {"agent_id": agents[1], "messages": [{"role": "user", "content": "y" * 100_001}]}]})

    assert resp.status_code == 413, resp.text
    assert resp.json()["detail"].startswith("requests[1]: ") and "AGENTHOST_MAX_MESSAGE_CHARS" in resp.json()["detail"]
    assert httpx.get(f"{limited.base_url}/v1/messages/batches", timeout=60).json() == before
    for model, agent in zip(models, agents, strict=True):
        _nothing_written(limited.base_url, scripted_llm, model, agent)


def test_the_mcp_send_tool_over_the_limit_is_a_tool_error_naming_it(limited, scripted_llm):
    import anyio
    from mcp import Client

    from tests.mcp_server.conftest import text_of

    model = f"mcp-{uuid.uuid4().hex[:8]}"
    agent = _agent(limited.base_url, model)

    async def call() -> tuple[bool, str]:
        with anyio.fail_after(60):
            async with Client(limited.base_url + "/mcp", mode="legacy") as client:
                reply = await client.call_tool("send_message_to_agent", {"agent_id": agent, "message": "y" * 100_001})
                return bool(reply.is_error), text_of(reply)

    is_error, text = anyio.run(call)
    assert is_error and "AGENTHOST_MAX_MESSAGE_CHARS" in text, text
    _nothing_written(limited.base_url, scripted_llm, model, agent)


def test_a_turn_that_cannot_fit_the_context_window_is_refused_before_any_model_call(limited, scripted_llm):
    model = f"window-{uuid.uuid4().hex[:8]}"
    agent = _agent(limited.base_url, model, context_window_limit=4000)
    words = " ".join(f"word{i}" for i in range(8000))  # some 20k tokens, under the message size limit
    resp = httpx.post(f"{limited.base_url}/v1/agents/{agent}/messages", timeout=60,
                      json={"messages": [{"role": "user", "content": words}]})

    assert resp.status_code == 413, resp.text
    assert "context window of 4000 tokens" in resp.json()["detail"]
    _nothing_written(limited.base_url, scripted_llm, model, agent)
    scripted_llm.for_model(model).push_tool_call("send_message", {"message": "fits"})
    ok = httpx.post(f"{limited.base_url}/v1/agents/{agent}/messages", timeout=60,
                    json={"messages": [{"role": "user", "content": " ".join(words.split()[:300])}]})
    assert ok.status_code == 200, ok.text
