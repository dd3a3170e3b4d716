"""A database or store outage is a 503 with Retry-After the client may retry, never a 500."""

from __future__ import annotations

import asyncpg
import httpx
import pytest
import redis.asyncio as aioredis
from fastapi import FastAPI

from apis.problems import install_problem_handlers


def _app(error: Exception) -> FastAPI:
    app = FastAPI()
    install_problem_handlers(app)

    @app.post("/orders")
    async def place() -> None:
        raise error

    @app.post("/credits")
    async def credit() -> None:
        # A client whose connection state is gone fails inside redis-py itself, as one torn
        # down under a command does while a cluster master fails over.
        broken = aioredis.Redis.__new__(aioredis.Redis)
        await broken.incrby("balance", 5)

    return app


@pytest.mark.parametrize(
    "error",
    [
        ConnectionRefusedError(111, "Connect call failed"),
        asyncpg.CannotConnectNowError("the database system is starting up"),
        asyncpg.ConnectionDoesNotExistError("connection was closed in the middle of operation"),
    ],
)
async def test_database_outage_is_503_with_retry_after(error: Exception) -> None:
    transport = httpx.ASGITransport(app=_app(error))
    async with httpx.AsyncClient(transport=transport, base_url="http://front") as http:
        response = await http.post("/orders")
    assert response.status_code == 503
    assert response.headers["Retry-After"] == "1"
    assert response.json()["code"] == "UNAVAILABLE"


async def test_a_bug_is_still_a_500() -> None:
    transport = httpx.ASGITransport(app=_app(KeyError("oops")), raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://front") as http:
        response = await http.post("/orders")
    assert response.status_code == 500
    assert response.json()["code"] == "INTERNAL"


async def test_the_redis_client_failing_inside_itself_is_503_not_500() -> None:
    transport = httpx.ASGITransport(app=_app(KeyError("unused")), raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://front") as http:
        response = await http.post("/credits")
    assert response.status_code == 503
    assert response.headers["Retry-After"] == "1"
    assert response.json()["code"] == "UNAVAILABLE"
