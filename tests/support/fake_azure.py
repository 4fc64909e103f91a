"""A loopback fake of Azure OpenAI: the scripted OpenAI-compatible server behind Azure's deployment URLs.

Implemented (and nothing else): ``POST /openai/deployments/<deployment>/chat/completions`` and
``.../embeddings`` (bodies and scripting exactly as `ScriptedLLM`'s; scripts are per deployment via
``for_model(<deployment>)``), and ``GET /openai/deployments`` (the deployment listing, as
``{"data": [{"id": <deployment>, "model": <model>}]}``). Every call needs the ``api-key`` header (else
401 with Azure's body) and an ``api-version`` query parameter (else 404 "Resource not found", as Azure
answers). ``calls`` records method, path, query and headers of each Azure call.

    with FakeAzure(api_key="azure-test", deployments={"gpt4o": "gpt-4o"}) as fake:   # AZURE_API_BASE: fake.url
        fake.for_model("gpt4o").push_text("hello")
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from tests.support.fake_providers import RecordingScriptedLLM


class FakeAzure(RecordingScriptedLLM):
    def __init__(self, *, api_key: str = "azure-test", deployments: dict[str, str] | None = None,
                 embedding_dim: int = 1536) -> None:  # fmt: skip
        super().__init__(embedding_dim=embedding_dim)
        self.api_key = api_key
        self.deployments = dict(deployments or {"gpt4o-prod": "gpt-4o", "o4-mini": "o4-mini",
                                                "embed-small": "text-embedding-3-small"})  # fmt: skip
        base = "/openai/deployments"
        self.starlette.router.routes[:0] = [
            Route(base, self._list_deployments, methods=["GET"]),
            Route(base + "/{deployment}/chat/completions", self._azure(self._chat), methods=["POST"]),
            Route(base + "/{deployment}/embeddings", self._azure(self._embeddings), methods=["POST"]),
        ]

    def _check(self, request: Request) -> Response | None:
        if request.headers.get("api-key") != self.api_key:
            error = {"code": "401", "message": "Access denied due to invalid subscription key or wrong API endpoint."}
            return JSONResponse({"error": error}, status_code=401)
        if not request.query_params.get("api-version"):
            return JSONResponse({"error": {"code": "404", "message": "Resource not found"}}, status_code=404)
        return None

    def _azure(self, handler: Any) -> Any:
        async def endpoint(request: Request) -> Response:
            deployment = request.path_params["deployment"]
            if (refused := self._check(request)) is not None:
                return refused
            if deployment not in self.deployments:
                error = {"code": "DeploymentNotFound", "message": f"The API deployment {deployment} does not exist."}
                return JSONResponse({"error": error}, status_code=404)
            return await handler(request)

        return endpoint

    async def _list_deployments(self, request: Request) -> Response:
        if (refused := self._check(request)) is not None:
            return refused
        data = [
            {"id": d, "model": m, "object": "deployment", "status": "succeeded"} for d, m in self.deployments.items()
        ]
        return JSONResponse({"object": "list", "data": data})
