"""OpenTelemetry traces, exported over OTLP/HTTP when ``OTEL_EXPORTER_OTLP_ENDPOINT`` (or the traces-only
``OTEL_EXPORTER_OTLP_TRACES_ENDPOINT``) is set; off otherwise, and then the SDK is never imported.

    provider = start_tracing(settings.otel)     # None when off
    tracer = provider.get_tracer("agenthost")
    provider.shutdown()                          # flushes what is still queued

The standard variables are read once by ``host.settings`` (``Settings.otel``) and handed to the SDK
explicitly: ``OTEL_SERVICE_NAME``, ``OTEL_RESOURCE_ATTRIBUTES``, ``OTEL_EXPORTER_OTLP[_TRACES]_ENDPOINT``,
``OTEL_EXPORTER_OTLP[_TRACES]_HEADERS``, ``OTEL_EXPORTER_OTLP[_TRACES]_TIMEOUT``, ``OTEL_BSP_SCHEDULE_DELAY``,
``OTEL_BSP_MAX_QUEUE_SIZE``, ``OTEL_BSP_MAX_EXPORT_BATCH_SIZE``. The provider is also made the process's
global one, so the MCP SDK's own spans (each MCP request, client and server side) join the same traces.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any
from urllib.parse import unquote

from host.version import __version__

logger = logging.getLogger(__name__)


def _pairs(raw: str | None) -> dict[str, str]:
    out = {}
    for item in (raw or "").split(","):
        key, sep, value = item.partition("=")
        if sep and key.strip():
            out[unquote(key.strip())] = unquote(value.strip())
    return out


def _number(env: Mapping[str, str], name: str, default: float) -> float:
    try:
        return float(env[name]) if env.get(name) else default
    except ValueError:
        logger.warning("%s=%r is not a number; using %s", name, env.get(name), default)
        return default


def traces_endpoint(env: Mapping[str, str]) -> str | None:
    if env.get("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"):
        return env["OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"]
    base = env.get("OTEL_EXPORTER_OTLP_ENDPOINT")
    return base.rstrip("/") + "/v1/traces" if base else None


def start_tracing(env: Mapping[str, str]) -> Any | None:
    """An SDK TracerProvider exporting to the configured endpoint (also set as the global one), or None."""
    endpoint = traces_endpoint(env)
    if not endpoint:
        return None
    from opentelemetry import trace
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor

    attributes: dict[str, Any] = {"service.name": "agenthost", "service.version": __version__}
    attributes.update(_pairs(env.get("OTEL_RESOURCE_ATTRIBUTES")))
    if env.get("OTEL_SERVICE_NAME"):
        attributes["service.name"] = env["OTEL_SERVICE_NAME"]
    headers = _pairs(env.get("OTEL_EXPORTER_OTLP_TRACES_HEADERS") or env.get("OTEL_EXPORTER_OTLP_HEADERS"))
    timeout = _number(env, "OTEL_EXPORTER_OTLP_TRACES_TIMEOUT", _number(env, "OTEL_EXPORTER_OTLP_TIMEOUT", 10000))
    exporter = OTLPSpanExporter(endpoint=endpoint, headers=headers or None, timeout=timeout / 1000)
    processor = BatchSpanProcessor(
        exporter, schedule_delay_millis=_number(env, "OTEL_BSP_SCHEDULE_DELAY", 5000),
        max_queue_size=int(_number(env, "OTEL_BSP_MAX_QUEUE_SIZE", 2048)),
        max_export_batch_size=int(_number(env, "OTEL_BSP_MAX_EXPORT_BATCH_SIZE", 512)))
    provider = TracerProvider(resource=Resource.create(attributes))
    provider.add_span_processor(processor)
    trace.set_tracer_provider(provider)
    logger.info("OpenTelemetry traces go to %s", endpoint.split("?")[0])
    return provider
