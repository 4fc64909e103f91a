"""OpenTelemetry: with OTEL_EXPORTER_OTLP_ENDPOINT set, a turn's spans (request, turn, step, model call, tool
call, MCP call) reach an OTLP/HTTP collector run in the test; without it, none are sent and the SDK is not
imported."""

from __future__ import annotations

import json
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import pytest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
    ExportTraceServiceResponse,
)

from tests.support.waiting import wait_until

REPO = Path(__file__).resolve().parents[3]
PEER = REPO / "tests" / "peers" / "peer_server.py"


class Collector:
    """A tiny OTLP/HTTP trace receiver on loopback: decodes each export (protobuf) into span records."""

    def __init__(self) -> None:
        self.spans: list[dict] = []
        self.paths: list[str] = []
        self.lock = threading.Lock()
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 (http.server's spelling)
                body = self.rfile.read(int(self.headers.get("content-length") or 0))
                req = ExportTraceServiceRequest()
                req.ParseFromString(body)
                with owner.lock:
                    owner.paths.append(self.path)
                    for rs in req.resource_spans:
                        resource = {a.key: a.value.string_value for a in rs.resource.attributes}
                        for ss in rs.scope_spans:
                            for span in ss.spans:
                                attrs = {a.key: (a.value.string_value or a.value.int_value) for a in span.attributes}
                                owner.spans.append({"name": span.name, "scope": ss.scope.name, "attrs": attrs,
                                                    "trace_id": span.trace_id.hex(), "resource": resource})
                out = ExportTraceServiceResponse().SerializeToString()
                self.send_response(200)
                self.send_header("content-type", "application/x-protobuf")
                self.send_header("content-length", str(len(out)))
                self.end_headers()
                self.wfile.write(out)

            def log_message(self, *args: object) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def names(self) -> set[str]:
        with self.lock:
            return {s["name"] for s in self.spans}

    def named(self, name: str) -> list[dict]:
        with self.lock:
            return [s for s in self.spans if s["name"] == name]


@pytest.fixture
def collector() -> Iterator[Collector]:
    c = Collector()
    c.thread.start()
    try:
        yield c
    finally:
        c.httpd.shutdown()
        c.httpd.server_close()


def test_a_turns_spans_reach_the_otlp_collector(make_server, model, collector, tmp_path) -> None:
    home = tmp_path / "home"
    home.mkdir()
    (home / "mcp_config.json").write_text(json.dumps(
        {"mcpServers": {"peer": {"command": sys.executable, "args": [str(PEER)]}}}))
    srv = make_server({"OTEL_EXPORTER_OTLP_ENDPOINT": collector.url, "OTEL_BSP_SCHEDULE_DELAY": "100",
                       "OTEL_SERVICE_NAME": "agenthost-under-test"}, home=home)
    with httpx.Client(base_url=srv.base_url, timeout=60) as c:
        wait_until(lambda: c.get("/v1/tools/mcp/servers").json().get("peer", {}).get("state") == "ready",
                   timeout=60, what="the peer MCP server to connect")
        agent = c.post("/v1/agents/", json={"model": model.handle, "embedding": "openai/text-embedding-3-small"})
        assert agent.status_code == 200, agent.text
        agent_id = agent.json()["id"]
        tool = c.post("/v1/tools/mcp/servers/peer/tools/echo")
        assert tool.status_code == 200, tool.text
        assert c.patch(f"/v1/agents/{agent_id}/tools/attach/{tool.json()['id']}").status_code == 200
        model.script.push_tool_call(tool.json()["name"], {"text": "over mcp", "request_heartbeat": True})
        model.script.push_tool_call("send_message", {"message": "done"})

        resp = c.post(f"/v1/agents/{agent_id}/messages", json={"messages": [{"role": "user", "content": "go"}]})
        assert resp.status_code == 200, resp.text

    wanted = {"POST /v1/agents/{agent_id}/messages", "agent.turn", "agent.step", "llm.call", "tool.call"}
    wait_until(lambda: wanted <= collector.names(), timeout=60,
               what=f"the spans {sorted(wanted)} at the collector (got {sorted(collector.names())})")
    wait_until(lambda: any(s["attrs"].get("mcp.method.name") == "tools/call" for s in collector.spans), timeout=60,
               what="the MCP SDK's span of the tools/call request")
    assert all(p == "/v1/traces" for p in collector.paths)
    turn = [s for s in collector.named("agent.turn") if s["attrs"].get("agent.id") == agent_id]
    assert turn and turn[0]["resource"]["service.name"] == "agenthost-under-test"
    requests = collector.named("POST /v1/agents/{agent_id}/messages")
    assert len(requests) == 1, requests  # one server span a request (ours; FastAPI's own telemetry stays off)
    request = requests[0]
    assert request["attrs"]["http.response.status_code"] == 200
    assert turn[0]["trace_id"] == request["trace_id"], "the turn is inside the request's trace"
    steps = [s for s in collector.named("agent.step") if s["trace_id"] == request["trace_id"]]
    assert len(steps) == 2
    tools = {s["attrs"]["tool.name"] for s in collector.named("tool.call") if s["trace_id"] == request["trace_id"]}
    assert tools == {tool.json()["name"], "send_message"}
    models = {s["attrs"]["gen_ai.request.model"] for s in collector.named("llm.call")}
    assert model.name in models


def test_without_an_endpoint_nothing_is_exported_and_the_sdk_is_not_loaded(make_server, model, collector) -> None:
    srv = make_server({"OTEL_BSP_SCHEDULE_DELAY": "100"})
    with httpx.Client(base_url=srv.base_url, timeout=60) as c:
        agent = c.post("/v1/agents/", json={"model": model.handle, "embedding": "openai/text-embedding-3-small"})
        model.script.push_tool_call("send_message", {"message": "untraced"})
        resp = c.post(f"/v1/agents/{agent.json()['id']}/messages",
                      json={"messages": [{"role": "user", "content": "go"}]})
        assert resp.status_code == 200, resp.text
    import subprocess

    loaded = subprocess.run([sys.executable, "-c", (
        "import sys; from host.settings import Settings; from host.app import create_app; "
        "create_app(Settings.from_env({'HOME': '/tmp'})); "
        "print(any(m.startswith('opentelemetry.sdk') for m in sys.modules))")],
        cwd=REPO, capture_output=True, text=True, timeout=120, env={"LITELLM_LOCAL_MODEL_COST_MAP": "True",
                                                                  "PATH": "/usr/bin:/bin"})
    assert loaded.stdout.strip() == "False", loaded.stderr
    assert collector.names() == set()
