"""SECURE=true: every route but health needs the server password, presented either way Letta accepts."""

from __future__ import annotations

import httpx
import pytest
from letta_client import Letta
from letta_client.core.api_error import ApiError


@pytest.fixture
def secure(make_server):
    return make_server({"SECURE": "true", "LETTA_SERVER_PASSWORD": "secret"})


def test_password_protection(secure):
    with httpx.Client(base_url=secure.base_url, timeout=30, follow_redirects=False) as http:
        denied = http.get("/v1/agents/")
        assert denied.status_code == 401
        assert "Bearer" in denied.json()["detail"]
        assert http.get("/v1/agents/", headers={"Authorization": "Bearer wrong"}).status_code == 401
        assert http.get("/v1/health/").status_code == 200, "health stays open"

        assert http.get("/v1/agents/", headers={"Authorization": "Bearer secret"}).status_code == 200
        assert http.get("/v1/agents/", headers={"X-BARE-PASSWORD": "password secret"}).status_code == 200

    assert isinstance(Letta(base_url=secure.base_url, token="secret").agents.list(), list)
    with pytest.raises(ApiError) as info:
        Letta(base_url=secure.base_url).agents.list()
    assert info.value.status_code == 401
