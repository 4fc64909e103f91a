"""A loopback fake of the Composio v3.1 endpoints that composio 0.29 calls for agenthost.

Implemented (and nothing else), as read from composio 0.29.0 / composio-client 2.0.0rc19:

* ``GET  /api/v3.1/toolkits``                 -> ToolkitListResponse (``Composio.toolkits.list``)
* ``GET  /api/v3.1/tools?toolkit_slug=...``   -> ToolListResponse (``tools.get_raw_composio_tools``)
* ``GET  /api/v3.1/tools/{slug}``             -> ToolRetrieveResponse, 404 when unknown
* ``POST /api/v3.1/tools/execute/{slug}``     -> ToolExecuteResponse ``{data, error, successful, log_id}``

Every route requires ``x-api-key`` equal to the configured key (else 401). The catalogue
is two toolkits: ``github`` (GITHUB_STAR_A_REPOSITORY, GITHUB_GET_USER) and ``weather``
(WEATHER_GET_FORECAST). Executing with ``owner="fail"`` reports ``successful: false``.

    with FakeComposio(api_key="ck-test") as fake:
        Composio(api_key="ck-test", base_url=fake.url, allow_tracking=False)
        fake.requests   # (method, path, query, json body, headers) tuples, in order
"""

from __future__ import annotations

from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from tests.support.loopback import LoopbackServer

_LOGO = "https://logos.example.test/x.png"
_NOW = "2025-07-01T00:00:00Z"

TOOLKITS: dict[str, dict[str, str]] = {
    "github": {"name": "GitHub", "description": "Code hosting and collaboration."},
    "weather": {"name": "Weather", "description": "Forecasts for any city."},
}

TOOLS: dict[str, dict[str, Any]] = {
    "GITHUB_STAR_A_REPOSITORY": {
        "toolkit": "github",
        "name": "Star a repository",
        "description": "Stars a repository for the authenticated user.",
        "input_parameters": {
            "type": "object",
            "title": "StarRepoRequest",
            "properties": {
                "owner": {"type": "string", "description": "The account owner of the repository."},
                "repo": {"type": "string", "description": "The name of the repository."},
            },
            "required": ["owner", "repo"],
        },
    },
    "GITHUB_GET_USER": {
        "toolkit": "github",
        "name": "Get a user",
        "description": "Gets public information about a GitHub user.",
        "input_parameters": {
            "type": "object",
            "properties": {"username": {"type": "string", "description": "The handle of the user."}},
            "required": ["username"],
        },
    },
    "WEATHER_GET_FORECAST": {
        "toolkit": "weather",
        "name": "Get forecast",
        "description": "Gets tomorrow's forecast for a city.",
        "input_parameters": {
            "type": "object",
            "properties": {"city": {"type": "string", "description": "City name."}},
            "required": ["city"],
        },
    },
}


def _toolkit_item(slug: str) -> dict[str, Any]:
    info = TOOLKITS[slug]
    count = sum(1 for t in TOOLS.values() if t["toolkit"] == slug)
    return {
        "slug": slug,
        "name": info["name"],
        "type": "native",
        "is_local_toolkit": False,
        "deprecated": {"toolkitId": f"tk-{slug}"},
        "auth_schemes": ["OAUTH2"],
        "composio_managed_auth_schemes": ["OAUTH2"],
        "no_auth": False,
        "meta": {
            "app_url": f"https://{slug}.example.test",
            "categories": [{"id": "dev", "name": "Developer tools"}],
            "created_at": _NOW,
            "updated_at": _NOW,
            "description": info["description"],
            "logo": _LOGO,
            "tools_count": count,
            "triggers_count": 0,
            "version": "20250701_00",
        },
    }


def _tool_item(slug: str) -> dict[str, Any]:
    tool = TOOLS[slug]
    tk = tool["toolkit"]
    return {
        "slug": slug,
        "name": tool["name"],
        "description": tool["description"],
        "human_description": tool["description"],
        "input_parameters": tool["input_parameters"],
        "output_parameters": {"type": "object", "properties": {"data": {"type": "object"}}},
        "available_versions": ["20250701_00"],
        "version": "20250701_00",
        "is_deprecated": False,
        "no_auth": False,
        "scopes": [],
        "tags": [],
        "toolkit": {"slug": tk, "name": TOOLKITS[tk]["name"], "logo": _LOGO},
        "deprecated": {
            "available_versions": ["20250701_00"],
            "displayName": tool["name"],
            "is_deprecated": False,
            "toolkit": {"logo": _LOGO},
            "version": "20250701_00",
        },
    }


def _page(items: list[dict[str, Any]]) -> dict[str, Any]:
    return {"items": items, "current_page": 1, "total_items": len(items), "total_pages": 1, "next_cursor": None}


def _execute(slug: str, arguments: dict[str, Any], user_id: str | None) -> dict[str, Any]:
    if slug == "GITHUB_STAR_A_REPOSITORY":
        if arguments.get("owner") == "fail":
            return {"data": {}, "error": "Repository fail/x not found", "successful": False, "log_id": "log-1"}
        return {
            "data": {"starred": f"{arguments.get('owner')}/{arguments.get('repo')}", "user_id": user_id},
            "error": None,
            "successful": True,
            "log_id": "log-2",
        }
    if slug == "WEATHER_GET_FORECAST":
        return {"data": {"city": arguments.get("city"), "forecast": "sunny"}, "error": None, "successful": True}
    return {"data": {"echo": arguments, "user_id": user_id}, "error": None, "successful": True}


class FakeComposio(LoopbackServer):
    def __init__(self, api_key: str = "ck-test") -> None:
        self.api_key = api_key
        self.requests: list[tuple[str, str, dict[str, str], Any, dict[str, str]]] = []
        super().__init__()
        self.app = Starlette(
            routes=[
                Route("/api/v3.1/toolkits", self._toolkits, methods=["GET"]),
                Route("/api/v3.1/tools", self._tools, methods=["GET"]),
                Route("/api/v3.1/tools/execute/{slug}", self._execute, methods=["POST"]),
                Route("/api/v3.1/tools/{slug}", self._tool, methods=["GET"]),
            ]
        )

    async def _record(self, request: Request) -> Response | None:
        body = None
        if request.method == "POST":
            body = await request.json()
        self.requests.append(
            (request.method, request.url.path, dict(request.query_params), body, dict(request.headers))
        )
        if request.headers.get("x-api-key") != self.api_key:
            return JSONResponse({"error": {"message": "Invalid API key", "status": 401}}, status_code=401)
        return None

    async def _toolkits(self, request: Request) -> Response:
        if (denied := await self._record(request)) is not None:
            return denied
        return JSONResponse(_page([_toolkit_item(slug) for slug in TOOLKITS]))

    async def _tools(self, request: Request) -> Response:
        if (denied := await self._record(request)) is not None:
            return denied
        wanted = {s for s in request.query_params.get("toolkit_slug", "").split(",") if s}
        slugs = {s for s in request.query_params.get("tool_slugs", "").split(",") if s}
        items = [
            _tool_item(slug)
            for slug, tool in TOOLS.items()
            if (not wanted or tool["toolkit"] in wanted) and (not slugs or slug in slugs)
        ]
        return JSONResponse(_page(items))

    async def _tool(self, request: Request) -> Response:
        if (denied := await self._record(request)) is not None:
            return denied
        slug = request.path_params["slug"]
        if slug not in TOOLS:
            return JSONResponse({"error": {"message": f"Tool {slug} not found", "status": 404}}, status_code=404)
        return JSONResponse(_tool_item(slug))

    async def _execute(self, request: Request) -> Response:
        if (denied := await self._record(request)) is not None:
            return denied
        slug = request.path_params["slug"]
        if slug not in TOOLS:
            return JSONResponse({"error": {"message": f"Tool {slug} not found", "status": 404}}, status_code=404)
        body = self.requests[-1][3] or {}
        return JSONResponse(_execute(slug, body.get("arguments") or {}, body.get("user_id")))

