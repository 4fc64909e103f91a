"""OpenAI-compatible chat completions over HTTP, without litellm.

    if lean(req): raw = await post(req, settings, body)    # the answer's JSON, read as litellm's is
    async with chunks(req, settings) as stream: ...         # each streamed chunk's JSON (httpx-sse)

The endpoint types litellm would reach through its generic OpenAI-compatible route (``hosted_vllm``: OpenAI,
vLLM, LM Studio, llama.cpp, ...) are called here directly: aiohttp posts a request (about a third of httpx's
CPU per call, measured: 0.6 vs 1.7 ms for an 11 KB request; imported on the first call), httpx-sse reads a
stream over httpx. Both clients take proxies from the environment and verify TLS with httpx's context.
The request body is ``provider_payload_json``: the very payload ``preview`` shows, each message encoded
once; answers and chunks are plain JSON, read by the same readers as litellm's objects
(``host.llm.client._get``). Why: importing litellm costs about 120 MB of memory and seconds of CPU, and its
call path about a third of a turn's CPU (measured); a server whose models are all OpenAI-compatible never
imports it. Every other provider still goes through litellm, imported on first use.

Failures become the package's ``LlmError`` tree as litellm's do: an HTTP error status is an
``LlmProviderError`` carrying the provider's own message (``LlmContextWindowError`` when that message says
the prompt is too long), no connection is an ``LlmConnectionError``, an answer that is not JSON (or a stream
that is not an event stream) an ``LlmResponseError``; the caller's deadline (``_guarded``) makes timeouts.
"""

from __future__ import annotations

import json
import urllib.request
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit
from weakref import WeakKeyDictionary

import anyio
import httpx
from httpx_sse import SSEError, aconnect_sse

from host.llm.arguments import _model_kwargs, provider_payload_json
from host.llm.errors import LlmConnectionError, LlmContextWindowError, LlmProviderError, LlmResponseError
from host.llm.providers import ProviderSettings
from host.llm.types import LlmRequest

if TYPE_CHECKING:
    import aiohttp

LEAN_ENDPOINT_TYPES = frozenset({"openai", "lmstudio", "lmstudio-chatcompletions", "llamacpp", "koboldcpp", "webui",
                                 "vllm"})
_TOO_LONG = ("context_length_exceeded", "maximum context length", "context window", "too many tokens",
             "prompt is too long")
_JSON = {"Content-Type": "application/json"}
_clients: WeakKeyDictionary[Any, httpx.AsyncClient] = WeakKeyDictionary()
_sessions: WeakKeyDictionary[Any, _Pooled] = WeakKeyDictionary()


def lean(req: LlmRequest) -> bool:
    """Whether ``req`` goes straight over HTTP (an OpenAI-compatible endpoint) rather than through litellm."""
    return req.config.model_endpoint_type in LEAN_ENDPOINT_TYPES


def _client() -> httpx.AsyncClient:
    """One pooled client per event loop (connections are kept alive between a turn's calls)."""
    import asyncio

    loop = asyncio.get_running_loop()
    client = _clients.get(loop)
    if client is None or client.is_closed:
        client = httpx.AsyncClient(limits=httpx.Limits(max_connections=100, max_keepalive_connections=20))
        _clients[loop] = client
    return client


@dataclass
class _Pooled:
    """A loop's aiohttp session, with the environment's proxies read once when it was made (as httpx reads
    them once per client: aiohttp's ``trust_env`` would scan the whole environment on every request)."""

    session: aiohttp.ClientSession
    proxies: dict[str, str]
    by_origin: dict[tuple[str, str], str | None] = field(default_factory=dict)

    def proxy_for(self, url: str) -> str | None:
        parts = urlsplit(url)
        origin = (parts.scheme, parts.hostname or "")
        if origin not in self.by_origin:
            proxy = self.proxies.get(parts.scheme)
            # (no_proxy as urllib reads it; the function is public but missing from typeshed)
            bypass = not proxy or urllib.request.proxy_bypass_environment(  # pyright: ignore[reportAttributeAccessIssue]
                origin[1], self.proxies)
            self.by_origin[origin] = None if bypass else proxy
        return self.by_origin[origin]


def _pooled() -> _Pooled:
    """One pooled aiohttp session per event loop, for requests that are not streamed."""
    import asyncio

    import aiohttp

    loop = asyncio.get_running_loop()
    pooled = _sessions.get(loop)
    if pooled is None or pooled.session.closed:
        connector = aiohttp.TCPConnector(limit=100, ssl=httpx.create_ssl_context())
        pooled = _Pooled(aiohttp.ClientSession(connector=connector), urllib.request.getproxies_environment())
        _sessions[loop] = pooled
    return pooled


def _endpoint(endpoint_type: str, model: str, endpoint: str | None, settings: ProviderSettings,
              path: str) -> tuple[str, dict[str, str]]:
    """The URL of ``path`` on the endpoint, and the headers with its key (as litellm's generic route sends)."""
    route = _model_kwargs(endpoint_type, model, endpoint, settings)
    headers = {"Authorization": f"Bearer {route['api_key']}"} if route.get("api_key") else {}
    return f"{str(route['api_base']).rstrip('/')}/{path}", headers


def _url(req: LlmRequest, settings: ProviderSettings) -> tuple[str, dict[str, str]]:
    c = req.config
    url, headers = _endpoint(c.model_endpoint_type, c.model, c.model_endpoint, settings, "chat/completions")
    return url, headers | _JSON


def _timeout(seconds: float) -> httpx.Timeout:
    return httpx.Timeout(seconds, connect=min(seconds, 30.0))


def _status_error(model: str, status: int, text: str) -> LlmProviderError:
    message = text.strip()
    try:
        body = json.loads(text)
    except ValueError:
        body = None
    if isinstance(body, dict):
        inner = body.get("error", body)
        found = inner.get("message") if isinstance(inner, dict) else inner
        if isinstance(found, str) and found:
            message = found
        code = inner.get("code") if isinstance(inner, dict) else None
        if code == "context_length_exceeded":
            return LlmContextWindowError(model, status, message)
    if status == 400 and any(marker in message.lower() for marker in _TOO_LONG):
        return LlmContextWindowError(model, status, message)
    return LlmProviderError(model, status, message or f"HTTP {status}")


def _connection_error(model: str, exc: httpx.TransportError) -> LlmConnectionError:
    return LlmConnectionError(model, None, f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__)


async def post(req: LlmRequest, settings: ProviderSettings, body: str) -> dict[str, Any]:
    """One non-streamed completion whose request is ``body`` (``provider_payload_json(req, settings)``): the
    answer's JSON."""
    url, headers = _url(req, settings)
    return await _post_json(req.config.model, url, body, headers, _timeout(req.timeout_s))


async def _post_json(model: str, url: str, body: str, headers: dict[str, str],
                     timeout: httpx.Timeout) -> dict[str, Any]:
    """POST ``body`` (JSON); the answer's JSON object, or the failure as an ``LlmError``."""
    import aiohttp

    limit = aiohttp.ClientTimeout(total=timeout.read, connect=timeout.connect)
    try:
        pooled = _pooled()
        async with pooled.session.post(url, data=body.encode(), headers=headers, timeout=limit,
                                       proxy=pooled.proxy_for(url)) as resp:
            raw = await resp.read()
            status = resp.status
    except TimeoutError:
        raise TimeoutError from None  # the caller's deadline speaks (LlmTimeoutError)
    except aiohttp.ClientError as exc:
        raise LlmConnectionError(model, None, f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
                                 ) from exc
    text = raw.decode("utf-8", errors="replace")
    if status >= 400:
        raise _status_error(model, status, text)
    try:
        answer = json.loads(raw)
    except ValueError as exc:
        raise LlmResponseError(f"{model}: the provider's answer is not valid JSON ({text[:200]!r})") from exc
    if not isinstance(answer, dict):
        raise LlmResponseError(f"{model}: the provider's answer is not a JSON object ({text[:200]!r})")
    return answer


@asynccontextmanager
async def chunks(req: LlmRequest, settings: ProviderSettings) -> AsyncIterator[AsyncIterator[dict[str, Any]]]:
    """A streamed completion: each chunk's JSON, until the provider's ``[DONE]`` (or the end of the stream).
    The HTTP response is closed when the block ends, also when it ends early."""
    model = req.config.model
    url, headers = _url(req, settings)
    body = provider_payload_json(req, settings, stream=True, stream_options={"include_usage": True})
    try:
        async with aconnect_sse(_client(), "POST", url, content=body, headers=headers,
                                timeout=_timeout(req.timeout_s)) as source:
            if source.response.status_code >= 400:
                await source.response.aread()
                raise _status_error(model, source.response.status_code, source.response.text)
            yield _events(model, source.aiter_sse())
    except httpx.TimeoutException:
        raise TimeoutError from None
    except httpx.TransportError as exc:
        raise _connection_error(model, exc) from exc


async def _events(model: str, events: AsyncIterator[Any]) -> AsyncIterator[dict[str, Any]]:
    try:
        async for event in events:
            if event.data.strip() == "[DONE]":
                return
            if not event.data.strip():
                continue
            try:
                chunk = json.loads(event.data)
            except ValueError as exc:
                raise LlmResponseError(f"{model}: a streamed chunk is not valid JSON ({event.data[:200]!r})") from exc
            if isinstance(chunk, dict) and "error" in chunk and not chunk.get("choices"):
                raise _status_error(model, 500, event.data)  # an error reported inside the stream
            yield chunk
    except SSEError as exc:
        raise LlmResponseError(f"{model}: the provider did not answer with an event stream ({exc})") from exc


async def embeddings(endpoint_type: str, model: str, endpoint: str | None, settings: ProviderSettings,
                     texts: list[str], timeout_s: float) -> dict[str, Any]:
    """One batch of embeddings from an OpenAI-compatible ``/embeddings``: the answer's JSON."""
    url, headers = _endpoint(endpoint_type, model, endpoint, settings, "embeddings")
    return await _post_json(model, url, json.dumps({"model": model, "input": texts}), headers | _JSON,
                            _timeout(timeout_s))


async def aclose_clients() -> None:
    """Close this event loop's pooled clients (at shutdown)."""
    import asyncio

    loop = asyncio.get_running_loop()
    client, session = _clients.pop(loop, None), _sessions.pop(loop, None)
    with anyio.CancelScope(shield=True):
        if client is not None:
            await client.aclose()
        if session is not None:
            await session.session.close()


__all__ = ["LEAN_ENDPOINT_TYPES", "aclose_clients", "chunks", "embeddings", "lean", "post"]
