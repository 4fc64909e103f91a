"""Routes of the web UI: the shell, its static assets, and offline ``/docs`` and ``/redoc``.

    GET /                      the UI shell (index.html); the SPA opens on the list of agents
    GET /agents, /agents/{id}  the same shell (deep links; the SPA routes on location.pathname)
    GET /ui/...                assets (ES modules, CSS, vendored swagger-ui-dist and redoc)
    GET /docs, /redoc          FastAPI's pages, with their scripts and styles served from /ui/vendor

The shell never shadows ``/v1`` or ``/mcp``: it answers only the paths above.
"""

from __future__ import annotations

import logging
from pathlib import Path

from fastapi import FastAPI
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html
from starlette.requests import Request
from starlette.responses import FileResponse, HTMLResponse, Response
from starlette.staticfiles import StaticFiles

logger = logging.getLogger(__name__)

STATIC_DIR = Path(__file__).resolve().parent / "static"
SWAGGER = "/ui/vendor/swagger-ui-dist-5.36.0"
REDOC = "/ui/vendor/redoc-2.5.4"
FAVICON = "/ui/favicon.svg"

# The shell's own policy: every fetch, script, style and image from this origin only.
SHELL_CSP = ("default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; "
             "connect-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'self'")
SHELL_HEADERS = {"Cache-Control": "no-cache", "Content-Security-Policy": SHELL_CSP,
                 "X-Content-Type-Options": "nosniff", "Referrer-Policy": "no-referrer"}


class UiAssets(StaticFiles):
    """Static assets revalidated by ETag (``no-cache``): a new release is picked up on the next load."""

    def file_response(self, *args, **kwargs) -> Response:
        response = super().file_response(*args, **kwargs)
        response.headers.setdefault("Cache-Control", "no-cache")
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        return response


async def shell(request: Request) -> Response:
    return FileResponse(STATIC_DIR / "index.html", media_type="text/html", headers=SHELL_HEADERS)


def _docs_routes(app: FastAPI) -> None:
    """Replace FastAPI's CDN-backed /docs and /redoc with pages whose assets this server serves."""
    title = app.title
    openapi_url = app.openapi_url or "/openapi.json"
    drop = {app.docs_url, app.redoc_url}
    app.router.routes[:] = [r for r in app.router.routes if getattr(r, "path", None) not in drop]

    async def swagger(request: Request) -> HTMLResponse:
        return get_swagger_ui_html(openapi_url=openapi_url, title=f"{title} - Swagger UI",
                                   swagger_js_url=f"{SWAGGER}/swagger-ui-bundle.js",
                                   swagger_css_url=f"{SWAGGER}/swagger-ui.css", swagger_favicon_url=FAVICON,
                                   swagger_ui_parameters={"validatorUrl": None})

    async def redoc(request: Request) -> HTMLResponse:
        return get_redoc_html(openapi_url=openapi_url, title=f"{title} - ReDoc",
                              redoc_js_url=f"{REDOC}/redoc.standalone.js", redoc_favicon_url=FAVICON,
                              with_google_fonts=False)

    app.add_route("/docs", swagger, include_in_schema=False)
    app.add_route("/redoc", redoc, include_in_schema=False)


def mount(app: FastAPI) -> None:
    """Serve the UI and offline API docs from ``app`` (call once, in ``create_app``)."""
    _docs_routes(app)
    for path in ("/", "/agents", "/agents/{agent_id}"):
        app.add_route(path, shell, methods=["GET", "HEAD"], include_in_schema=False)
    app.mount("/ui", UiAssets(directory=STATIC_DIR), name="ui")
    logger.debug("web UI mounted from %s", STATIC_DIR)


__all__ = ["STATIC_DIR", "mount"]
