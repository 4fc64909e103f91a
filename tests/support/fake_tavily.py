"""A loopback fake of Tavily's search API, for tavily-python 0.8.5.

Implemented (and nothing else): ``POST /search`` with ``Authorization: Bearer <key>``.
A key other than the configured one answers 401 (the SDK raises ``InvalidAPIKeyError``);
``max_results`` bounds the results; ``include_raw_content`` adds ``raw_content``.
A query containing "nothing" returns no results; one containing "explode" returns 500.

    with FakeTavily(api_key="tvly-test") as tavily:
        TavilyClient(api_key="tvly-test", api_base_url=tavily.url).search("cats")
        tavily.requests   # the JSON bodies received, in order

The server is uvicorn on 127.0.0.1 in a background thread; the socket listens before
the thread starts, so requests queue in the kernel and no start-up wait is needed.
"""

from __future__ import annotations

from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from tests.support.loopback import LoopbackServer


class FakeTavily(LoopbackServer):
    def __init__(self, api_key: str = "tvly-test") -> None:
        self.api_key = api_key
        self.requests: list[dict[str, Any]] = []
        self.auth_headers: list[str] = []
        super().__init__()
        self.app = Starlette(routes=[Route("/search", self._search, methods=["POST"])])

    async def _search(self, request: Request) -> Response:
        body = await request.json()
        self.requests.append(body)
        auth = request.headers.get("authorization", "")
        self.auth_headers.append(auth)
        if auth != f"Bearer {self.api_key}":
            return JSONResponse({"detail": {"error": "Unauthorized: missing or invalid API key."}}, status_code=401)
        query = str(body.get("query", ""))
        if "explode" in query:
            return JSONResponse({"detail": {"error": "internal failure"}}, status_code=500)
        count = 0 if "nothing" in query else int(body.get("max_results") or 5)
        results = []
        for n in range(1, count + 1):
            item: dict[str, Any] = {
                "title": f"Result {n} about {query}",
                "url": f"https://example.test/{query.replace(' ', '-')}/{n}",
                "content": f"Snippet {n}: facts about {query}.",
                "score": round(1.0 - n / 10, 2),
                "raw_content": None,
            }
            if body.get("include_raw_content"):
                item["raw_content"] = f"Full page {n} text about {query}."
            results.append(item)
        return JSONResponse(
            {
                "query": query,
                "answer": None,
                "images": [],
                "results": results,
                "response_time": 0.01,
                "request_id": f"req-{len(self.requests)}",
            }
        )

