"""Every front built by `http_front` refuses a query parameter given twice, with a problem."""

from __future__ import annotations

import httpx
from fastapi import FastAPI

from apis.fronts import http_front


def app_with_one_route() -> FastAPI:
    app = http_front("probe", metrics=False)

    @app.get("/things")
    async def things(user_id: str = "me", limit: int = 10) -> dict[str, object]:
        return {"user_id": user_id, "limit": limit}

    return app


async def call(query: str) -> httpx.Response:
    transport = httpx.ASGITransport(app=app_with_one_route())
    async with httpx.AsyncClient(transport=transport, base_url="http://front") as client:
        return await client.get(f"/things?{query}")


async def test_a_repeated_parameter_is_a_validation_problem() -> None:
    answer = await call("user_id=alice&user_id=bob&limit=3")
    assert answer.status_code == 422
    assert answer.headers["content-type"].startswith("application/problem+json")
    body = answer.json()
    assert body["code"] == "VALIDATION_FAILED"
    assert "user_id" in body["detail"]


async def test_distinct_parameters_pass() -> None:
    answer = await call("user_id=alice&limit=3")
    assert answer.status_code == 200
    assert answer.json() == {"user_id": "alice", "limit": 3}
