"""The HTTP side: proxy to upstreams, problem details, rate limits, health, readiness, metrics."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
import redis.asyncio as aioredis

from tests.conftest import SessionStack
from tests.integration.gateway_support import (
    GameStandIn,
    RunningServer,
    gateway_settings,
    running_game_stand_in,
    running_gateway,
    user_token,
)


@pytest.fixture
async def upstream() -> AsyncIterator[tuple[GameStandIn, RunningServer]]:
    """A local app standing in for the edge and the game service."""
    async with running_game_stand_in() as running:
        yield running


@pytest.fixture
async def http(
    stack: SessionStack, redis: aioredis.Redis, upstream: tuple[GameStandIn, RunningServer]
) -> AsyncIterator[httpx.AsyncClient]:
    """A client of a gateway whose edge and game upstreams are the stand-in."""
    _, server = upstream
    settings = gateway_settings(
        stack.redis_url,
        edge_url=server.url,
        game_url=server.url,
        upstream_timeout_seconds=1.0,
        rate_limit_per_user=20,
        rate_limit_per_ip=1000,
    )
    async with (
        running_gateway(settings) as gateway,
        httpx.AsyncClient(base_url=gateway.url, timeout=10) as client,
    ):
        yield client


def _auth(user: str = "uma") -> dict[str, str]:
    return {"authorization": f"Bearer {user_token(user)}"}


async def test_requests_are_forwarded_with_auth_and_trace_headers(
    http: httpx.AsyncClient,
) -> None:
    trace = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"
    auth = _auth()  # one token: two calls a second apart would sign different ones
    response = await http.post(
        "/api/game/echo/orders?x=1",
        content=b'{"a": 1}',
        headers={
            **auth,
            "traceparent": trace,
            "idempotency-key": "k1",
            "x-user-id": "forged",
            "content-type": "application/json",
        },
    )
    assert response.status_code == 200
    body = response.json()
    assert (body["path"], body["method"], body["query"], body["body"]) == (
        "orders",
        "POST",
        "x=1",
        '{"a": 1}',
    )
    headers = body["headers"]
    assert headers["authorization"] == auth["authorization"]
    assert headers["idempotency-key"] == "k1"
    assert headers["x-user-id"] == "uma"
    assert headers["traceparent"].startswith("00-0af7651916cd43dd8448eb211c80319c-")
    assert headers["traceparent"] != trace  # the gateway's own span, same trace
    assert response.headers["x-trace-id"] == "0af7651916cd43dd8448eb211c80319c"
    game = await http.get("/api/game/echo/tables", headers=_auth())
    assert game.json()["path"] == "tables"
    # The edge's own paths are allow-listed: orders pass, the stand-in's others do not.
    edge = await http.post("/api/edge/orders", content=b"{}", headers=_auth())
    assert edge.status_code == 404  # the stand-in has no /orders: it was forwarded
    assert (await http.get("/api/edge/echo/x", headers=_auth())).status_code == 403


async def test_upstream_failures_are_problem_details(http: httpx.AsyncClient) -> None:
    timeout = await http.get("/api/game/slow", headers=_auth())
    assert timeout.status_code == 504
    assert timeout.json()["code"] == "UPSTREAM_TIMEOUT"
    assert timeout.headers["content-type"] == "application/problem+json"
    failed = await http.get("/api/game/boom", headers=_auth())
    assert failed.status_code == 502
    assert failed.json()["code"] == "UPSTREAM_FAILED"
    down = await http.get("/api/balance/accounts/a/balance", headers=_auth())
    assert down.status_code == 502
    assert down.json()["code"] == "UPSTREAM_FAILED"
    unset = await http.get("/api/player/profile", headers=_auth())
    assert unset.status_code == 503
    assert "PLAYER_URL" in unset.json()["detail"]
    unknown = await http.get("/api/payments/x", headers=_auth())
    assert unknown.status_code == 404


async def test_auth_is_required_and_internal_paths_are_refused(http: httpx.AsyncClient) -> None:
    missing = await http.get("/api/game/echo/x")
    assert missing.status_code == 401
    assert missing.json()["code"] == "UNAUTHENTICATED"
    bad = await http.get("/api/game/echo/x", headers={"authorization": "Bearer nope"})
    assert bad.status_code == 401
    for path in ("/api/edge/internal/secret", "/api/edge/echo/../internal/secret"):
        refused = await http.get(path, headers=_auth())
        assert refused.status_code in (403, 404), path
        assert "leaked" not in refused.text
    encoded = await http.get("/api/edge/%2E%2E/internal/secret", headers=_auth())
    assert encoded.status_code == 403
    assert "leaked" not in encoded.text


async def test_too_many_requests_per_user_get_429_with_retry_after(
    http: httpx.AsyncClient,
) -> None:
    codes = [
        (await http.get("/api/game/echo/x", headers=_auth("vic"))).status_code for _ in range(22)
    ]
    assert codes.count(200) == 20
    assert codes[-1] == 429
    limited = await http.get("/api/game/echo/x", headers=_auth("vic"))
    assert limited.json()["code"] == "RATE_LIMITED"
    assert int(limited.headers["retry-after"]) >= 1
    other = await http.get("/api/game/echo/x", headers=_auth("wendy"))
    assert other.status_code == 200


async def test_per_ip_limit_applies_before_authentication(
    stack: SessionStack, redis: aioredis.Redis
) -> None:
    settings = gateway_settings(stack.redis_url, rate_limit_per_ip=3)
    async with (
        running_gateway(settings) as gateway,
        httpx.AsyncClient(base_url=gateway.url) as client,
    ):
        codes = [(await client.get("/api/edge/x")).status_code for _ in range(5)]
        assert codes == [401, 401, 401, 429, 429]


async def test_health_ready_and_metrics(
    http: httpx.AsyncClient, upstream: tuple[GameStandIn, RunningServer]
) -> None:
    assert (await http.get("/health")).json()["status"] == "ok"
    ready = await http.get("/ready")
    # Redis, pub/sub and the stand-in answer; balance (HTTP and gRPC) is not running here.
    assert ready.status_code == 503
    checks = ready.json()["checks"]
    assert checks["redis"]
    assert checks["pubsub"]
    assert checks["edge"]
    assert checks["game"]
    assert not checks["balance"]
    assert not checks["balance_grpc"]
    await http.get("/api/game/echo/x", headers=_auth())
    metrics = (await http.get("/metrics")).text
    for name in (
        "saga_gateway_open_connections",
        "saga_gateway_messages_in_total",
        "saga_gateway_messages_out_total",
        "saga_gateway_errors_total",
        "saga_gateway_rate_limited_total",
        'saga_gateway_proxy_requests_total{service="game",status="200"}',
    ):
        assert name in metrics, name
