"""host.api.errors: what the database refuses about a value is a 422 saying why; anything else a 500."""

from __future__ import annotations

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy.exc import DBAPIError

from host.api.errors import install_error_handlers

pytestmark = pytest.mark.anyio


class DriverError(Exception):
    """What asyncpg's errors carry through SQLAlchemy: the SQLSTATE."""

    def __init__(self, message: str, sqlstate: str) -> None:
        super().__init__(message)
        self.sqlstate = sqlstate


def app_raising(error: Exception) -> FastAPI:
    app = FastAPI()
    install_error_handlers(app)

    @app.post("/v1/thing")
    async def thing() -> None:
        raise error

    return app


@pytest.mark.parametrize(("sqlstate", "message"), [
    ("22001", "value too long for type character varying(256)"),
    ("22021", 'invalid byte sequence for encoding "UTF8": 0x00'),
    ("54000", "index row size 3000 exceeds btree version 4 maximum 2704"),
])
async def test_a_value_the_database_refuses_is_a_422_with_its_reason(sqlstate: str, message: str) -> None:
    error = DBAPIError("INSERT ...", {}, DriverError(message, sqlstate))
    transport = httpx.ASGITransport(app=app_raising(error), raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        resp = await client.post("/v1/thing")
    assert resp.status_code == 422
    assert resp.json() == {"detail": f"A value does not fit the database: {message}"}


async def test_other_database_errors_stay_500_without_details() -> None:
    error = DBAPIError("SELECT ...", {}, DriverError("connection reset", "08006"))
    transport = httpx.ASGITransport(app=app_raising(error), raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        resp = await client.post("/v1/thing")
    assert resp.status_code == 500
    assert "connection reset" not in resp.text and resp.json()["detail"].startswith("Internal server error (ref ")
