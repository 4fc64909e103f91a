"""Telemetry: Prometheus metrics (``GET /metrics``) and the loop's reports (``host.agent.ports.LoopTelemetry``).

    telemetry = Telemetry()                     # one per app (its own CollectorRegistry: no global state)
    telemetry.attach(traces=..., mcp=..., runner=...)   # at start-up, what the scrape-time gauges read
    telemetry.render() -> (bytes, content_type)

Metrics (all prefixed ``agenthost_``):

    http_requests_total{method, route, status}     counter   routes by template (/v1/agents/{agent_id})
    http_request_seconds{method, route}            histogram
    turn_seconds{stop_reason}                      histogram one agent turn, all its steps
    model_call_seconds{model, outcome}             histogram one model call (ok | error)
    tool_call_seconds{tool, status}                histogram one tool call (success | error)
    mcp_servers{state}                             gauge     configured MCP servers by state
    runs_in_progress                               gauge     turns running now (the runner's queue)
    provider_traces_pending                        gauge     traces noted, not yet written

Every hot-path call is a dictionary lookup and a float addition (prometheus_client); gauges that describe
state are computed at scrape time.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from contextlib import AbstractContextManager, nullcontext
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Histogram
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.exposition import CONTENT_TYPE_LATEST, generate_latest
from prometheus_client.registry import Collector

from host.services.provider_traces import ProviderTraceStore

_FAST = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0)
_MCP_STATES = ("connecting", "ready", "error", "disabled")
_NOTHING = nullcontext()


class _StateCollector(Collector):
    def __init__(self, owner: Telemetry) -> None:
        self.owner = owner

    def collect(self) -> Iterable[GaugeMetricFamily]:
        o = self.owner
        servers = GaugeMetricFamily("agenthost_mcp_servers", "Configured MCP servers by connection state",
                                    labels=["state"])
        counts = dict.fromkeys(_MCP_STATES, 0)
        for status in o.mcp_states():
            counts[status.state] = counts.get(status.state, 0) + 1
        for state, n in counts.items():
            servers.add_metric([state], n)
        yield servers
        yield GaugeMetricFamily("agenthost_runs_in_progress", "Agent turns running now", value=o.runs_in_progress())
        yield GaugeMetricFamily("agenthost_provider_traces_pending", "Provider traces noted, not yet written",
                                value=o.traces.pending if o.traces is not None else 0)


class Telemetry:
    """The app's metrics, and the ``LoopTelemetry`` the agent loop is given."""

    def __init__(self, tracer: Any | None = None) -> None:
        self.tracer = tracer  # an OpenTelemetry Tracer when tracing is on (host.services.tracing)
        self.registry = CollectorRegistry(auto_describe=True)
        r = self.registry
        self.requests = Counter("agenthost_http_requests", "HTTP requests answered",
                                ["method", "route", "status"], registry=r)
        self.request_seconds = Histogram("agenthost_http_request_seconds", "HTTP request latency",
                                         ["method", "route"], buckets=_FAST, registry=r)
        self.turn_seconds = Histogram("agenthost_turn_seconds", "Agent turn latency (all its steps)",
                                      ["stop_reason"], buckets=_FAST, registry=r)
        self.model_seconds = Histogram("agenthost_model_call_seconds", "Model call latency",
                                       ["model", "outcome"], buckets=_FAST, registry=r)
        self.tool_seconds = Histogram("agenthost_tool_call_seconds", "Tool call latency",
                                      ["tool", "status"], buckets=_FAST, registry=r)
        self.traces: ProviderTraceStore | None = None
        self.mcp_states: Callable[[], list[Any]] = list
        self.runs_in_progress: Callable[[], int] = lambda: 0
        r.register(_StateCollector(self))

    def attach(self, *, traces: ProviderTraceStore | None = None, mcp_states: Callable[[], list[Any]] | None = None,
               runs_in_progress: Callable[[], int] | None = None) -> None:
        if traces is not None:
            self.traces = traces
        if mcp_states is not None:
            self.mcp_states = mcp_states
        if runs_in_progress is not None:
            self.runs_in_progress = runs_in_progress

    def span(self, name: str, attributes: Mapping[str, Any] | None = None) -> AbstractContextManager[Any]:
        if self.tracer is None:
            return _NOTHING
        return self.tracer.start_as_current_span(name, attributes=attributes)

    def render(self) -> tuple[bytes, str]:
        return generate_latest(self.registry), CONTENT_TYPE_LATEST

    # ---- LoopTelemetry ---------------------------------------------------------------------------
    def model_call(self, step_id: str, agent_id: str, request: Any, response: Any, seconds: float) -> None:
        self.model_seconds.labels(request.config.model, "ok").observe(seconds)
        if self.traces is not None:
            self.traces.note(step_id, agent_id, request, response)

    def model_failed(self, model: str, seconds: float) -> None:
        self.model_seconds.labels(model, "error").observe(seconds)

    def tool_call(self, name: str, status: str, seconds: float) -> None:
        self.tool_seconds.labels(name, status).observe(seconds)

    def turn(self, seconds: float, stop_reason: str) -> None:
        self.turn_seconds.labels(stop_reason or "unknown").observe(seconds)

    def request(self, method: str, route: str, status: int, seconds: float) -> None:
        self.requests.labels(method, route, str(status)).inc()
        self.request_seconds.labels(method, route).observe(seconds)
