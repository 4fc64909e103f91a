"""Routing: collection routes answer with and without a trailing slash (no redirects); OpenAPI and docs."""

from __future__ import annotations

import pytest

COLLECTIONS = ["/v1/agents", "/v1/blocks", "/v1/tools", "/v1/identities", "/v1/tags", "/v1/models",
               "/v1/models/embedding", "/v1/health", "/v1/agents/count", "/v1/blocks/count", "/v1/tools/count"]


@pytest.mark.parametrize("path", COLLECTIONS)
def test_collection_routes_answer_with_and_without_a_trailing_slash(http, path):
    for variant in (path, path + "/"):
        resp = http.get(variant)
        assert resp.status_code == 200, (variant, resp.status_code, resp.text[:200])


def test_create_works_without_the_trailing_slash(http, llm_handle):
    resp = http.post("/v1/agents", json={"model": llm_handle})
    assert resp.status_code == 200, resp.text
    assert http.delete(f"/v1/agents/{resp.json()['id']}").status_code == 200


def test_openapi_lists_our_routes_once(http):
    spec = http.get("/openapi.json").json()
    paths = spec["paths"]

    for path in ("/v1/agents/", "/v1/agents/{agent_id}", "/v1/agents/{agent_id}/core-memory/blocks/{block_label}",
                 "/v1/agents/{agent_id}/archival-memory", "/v1/agents/{agent_id}/messages", "/v1/blocks/",
                 "/v1/tools/", "/v1/identities/", "/v1/tags/", "/v1/agents/import", "/v1/health/"):
        assert path in paths, path
    assert "/v1/agents" not in paths, "slash twins stay out of the schema"
    assert paths["/v1/agents/"]["post"]["operationId"] == "create_agent"


def test_docs_page_is_html(http):
    resp = http.get("/docs")
    assert resp.status_code == 200
    assert resp.headers["content-type"].startswith("text/html")


def test_unknown_route_is_404_json(http):
    resp = http.get("/v1/no-such-thing")
    assert resp.status_code == 404
    assert resp.json() == {"detail": "Not Found"}
