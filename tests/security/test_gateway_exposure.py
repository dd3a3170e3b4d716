"""Internal and admin surfaces cannot be reached through the gateway's proxy, however spelled.

Requests go over a raw socket, so dot segments and encodings reach the gateway exactly as
written (an HTTP client library would normalize them first). The stand-in upstream records
every path it is asked for: a refused request must leave no trace there.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

import pytest
import redis.asyncio as aioredis
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from tests.conftest import SessionStack
from tests.integration.gateway_support import (
    RunningServer,
    gateway_settings,
    running_app,
    running_gateway,
    user_token,
)
from tests.security.tally import tried


@dataclass
class Recorder:
    """What reached the stand-in upstream."""

    paths: list[str] = field(default_factory=list)
    headers: list[dict[str, str]] = field(default_factory=list)


def _upstream(recorder: Recorder) -> FastAPI:
    app = FastAPI()

    @app.api_route("/{path:path}", methods=["GET", "POST", "PUT", "DELETE"])
    async def anything(path: str, request: Request) -> JSONResponse:
        recorder.paths.append(request.url.path)
        recorder.headers.append(dict(request.headers))
        return JSONResponse({"reached": request.url.path})

    return app


@dataclass
class Proxy:
    """A gateway whose edge, balance and game upstreams are the recording stand-in."""

    gateway: RunningServer
    recorder: Recorder

    async def raw(self, target: str, method: str = "GET", extra: str = "") -> tuple[int, str]:
        """Send `method target` as written; the status and body."""
        reader, writer = await asyncio.open_connection("127.0.0.1", self.gateway.port)
        token = user_token("alice")
        writer.write(
            f"{method} {target} HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            f"Authorization: Bearer {token}\r\nContent-Length: 0\r\n{extra}"
            "Connection: close\r\n\r\n".encode("latin-1")
        )
        await writer.drain()
        response = await asyncio.wait_for(reader.read(), 10)
        writer.close()
        head, _, body = response.partition(b"\r\n\r\n")
        return int(head.split(b" ", 2)[1]), body.decode("latin-1")


@pytest.fixture
async def proxy(stack: SessionStack, redis: aioredis.Redis) -> AsyncIterator[Proxy]:
    recorder = Recorder()
    async with running_app(_upstream(recorder)) as upstream:
        settings = gateway_settings(
            stack.redis_url, edge_url=upstream.url, balance_url=upstream.url, game_url=upstream.url
        )
        async with running_gateway(settings) as gateway:
            yield Proxy(gateway, recorder)


REFUSED = [
    # Probes, scrapes and API descriptions of our own services.
    "/api/edge/metrics",
    "/api/edge/health",
    "/api/edge/docs",
    "/api/edge/openapi.json",
    "/api/balance/health",
    "/api/balance/economy",
    "/api/game/metrics",
    "/api/game/health",
    "/api/game/internal/secret",
    "/api/game/admin/users",
    "/api/game/tables/1/debug",
    # Traversal, plain and encoded (once, twice, mixed case, backslashes).
    "/api/edge/orders/../metrics",
    "/api/edge/../../metrics",
    "/api/edge/%2e%2e/metrics",
    "/api/edge/%2E%2E/%2E%2E/metrics",
    "/api/edge/%252e%252e/metrics",
    "/api/edge/orders%2f..%2fmetrics",
    "/api/edge/..%5cmetrics",
    "/api/game/..\\metrics",
    "/api/balance/accounts/a/../../../metrics",
    "/api/game/./internal/secret",
    # Smuggled query, fragment and control characters.
    "/api/edge/orders%3Fx=1",
    "/api/edge/orders%23frag",
    "/api/edge/orders%00",
    "/api/edge/orders%0d%0aX-Injected:%201",
    # Another host, as an absolute URL in the path or a protocol-relative one.
    "/api/game/http://evil.example/steal",
    "/api/game//evil.example/steal",
    "/api/edge/orders/x/y",
]
NOT_UPSTREAMS = [
    "/api/inventory/products/widget/stock",
    "/api/payments/capture/auth_1",
    "/api/payments/void/auth_1",
    "/api/orders/x/confirm",
    "/api/relay/health",
    "/api/temporal/namespaces",
    "/api/worker/metrics",
]


async def test_internal_paths_are_refused_and_never_reach_an_upstream(proxy: Proxy) -> None:
    for target in REFUSED:
        for method in ("GET", "POST"):
            status, body = await proxy.raw(target, method)
            assert status in (400, 403, 404), (target, status, body)
            assert "reached" not in body, target
            tried("proxy_exposure")
    for target in NOT_UPSTREAMS:
        status, _ = await proxy.raw(target, "POST")
        assert status == 404, target
        tried("proxy_exposure")
    assert proxy.recorder.paths == []


async def test_player_paths_still_pass(proxy: Proxy) -> None:
    for target, reached in [
        ("/api/edge/orders", "/orders"),
        ("/api/edge/orders/9f0c4f0e-2d0a-4c8e-9d1e-4f7f2b0a1c3d", None),
        ("/api/balance/accounts/alice/balance", "/api/accounts/alice/balance"),
        ("/api/balance/reservations/r-1/commit", "/api/reservations/r-1/commit"),
        ("/api/game/tables/1/actions", "/tables/1/actions"),
    ]:
        status, body = await proxy.raw(target, "POST")
        assert status == 200, (target, body)
        if reached is not None:
            assert json.loads(body)["reached"] == reached


async def test_a_client_cannot_override_the_upstream_host_or_forwarding_headers(
    proxy: Proxy,
) -> None:
    forged = (
        "X-Forwarded-Host: evil.example\r\nForwarded: host=evil.example\r\n"
        "X-Original-URL: /metrics\r\nX-HTTP-Method-Override: DELETE\r\n"
        "X-User-Id: admin\r\nX-Token-Kind: service\r\n"
    )
    status, body = await proxy.raw("/api/game/tables", extra=forged)
    assert status == 200, body
    seen = proxy.recorder.headers[-1]
    assert seen["host"].startswith("127.0.0.1")
    for name in ("x-forwarded-host", "forwarded", "x-original-url", "x-http-method-override"):
        assert name not in seen, name
    assert (seen["x-user-id"], seen["x-token-kind"]) == ("alice", "user")
    # An absolute request target names another host; the gateway still picks the upstream.
    status, body = await proxy.raw("http://evil.example/api/game/tables")
    assert status == 200, body
    assert proxy.recorder.headers[-1]["host"].startswith("127.0.0.1")
    tried("proxy_exposure", 2)
