"""A router is offered only the paths under its routes' first two segments, and routing answers as before:
the right route, a 405 for a known path with another method, a 404 for an unknown one, and a router with a
parameter in its first segments still offered everything."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient

from host.api.routing import SlashRouter


class CountedRoute(APIRoute):
    """A route that counts the requests it was tried for."""

    tried: list[str] = []

    def matches(self, scope: Any) -> Any:
        CountedRoute.tried.append(scope["path"])
        return super().matches(scope)


def _app() -> tuple[FastAPI, SlashRouter, SlashRouter, SlashRouter]:
    things = SlashRouter(prefix="/v1/things", route_class=CountedRoute)
    others = SlashRouter(prefix="/v1/others")
    anything = SlashRouter()

    @things.get("/{thing_id}")
    async def get_thing(thing_id: str) -> dict[str, str]:
        return {"router": "things", "id": thing_id}

    @others.post("/{other_id}/run")
    async def run_other(other_id: str) -> dict[str, str]:
        return {"router": "others", "id": other_id}

    @anything.get("/v1/{kind}/count")
    async def count(kind: str) -> dict[str, str]:
        return {"router": "anything", "kind": kind}

    app = FastAPI()
    for router in (things, others, anything):
        app.include_router(router)
    return app, things, others, anything


def test_each_router_declines_paths_outside_its_heads_and_routing_answers_as_before() -> None:
    app, things, others, anything = _app()
    CountedRoute.tried.clear()
    with TestClient(app) as client:
        assert client.get("/v1/things/t1").json() == {"router": "things", "id": "t1"}
        assert client.post("/v1/others/o1/run").json() == {"router": "others", "id": "o1"}
        assert client.get("/v1/others/o1/run").status_code == 405  # its path, another method
        assert client.get("/v1/things/count").json() == {"router": "things", "id": "count"}  # declared first
        assert client.get("/v1/widgets/count").json() == {"router": "anything", "kind": "widgets"}
        assert client.get("/v2/things/t1").status_code == 404

    # the things router was tried only for paths under /v1/things; the others declined it at once
    assert set(CountedRoute.tried) == {"/v1/things/t1", "/v1/things/count"}
    assert things._heads == frozenset({"/v1/things"}) and others._heads == frozenset({"/v1/others"})
    assert anything._heads is None  # a parameter in its first segments: it is offered every path
