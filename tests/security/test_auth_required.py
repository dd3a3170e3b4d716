"""Every route of every HTTP front needs a token, except a short public list; nothing changes.

Routes are enumerated from the apps themselves, so a route added later without auth fails here.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import AsyncIterator, Iterable, Iterator
from contextlib import asynccontextmanager

import asyncpg
import httpx
import pytest
import redis.asyncio as aioredis
from fastapi import FastAPI
from fastapi.routing import APIRoute
from starlette.routing import BaseRoute

from apis import inventory, orders
from apis.balance.rest import app as balance_http
from apis.checkout import edge
from apis.events import create_app as events_app
from apis.game.app import create_app as game_app
from apis.gateway.app import create_app as gateway_app
from domain.balance.book import BalanceBook
from domain.events.settings import EventSettings
from domain.game.settings import GameSettings
from domain.payments.client import PaymentsClient
from infra.settings import DEV_JWT_SECRET
from tests.checkout_support import seed_catalog
from tests.conftest import SessionStack
from tests.integration.checkout_fronts import payments_front, service_auth, serving, user_auth
from tests.integration.gateway_support import gateway_settings
from tests.security.tally import tried
from tests.snapshots import assert_unchanged, snapshot

# Open on purpose: probes, scrapes, the catalog and the API descriptions.
PUBLIC = {
    "/health",
    "/ready",
    "/metrics",
    "/api/health",
    "/inventory/products",
    "/inventory/products/{product_id}/availability",
    "/openapi.json",
    "/docs",
    "/docs/oauth2-redirect",
    "/redoc",
    # The player web app: its page, its static files and the development sign-in by name
    # (refused when SAGA_ENV=production; tests/web/test_sign_in.py).
    "/",
    "/static/{asset:path}",
    "/dev/sign-in",
}
MUTATING = {"POST", "PUT", "PATCH", "DELETE"}
# Where a user token may act (for itself); every other mutating route is for services only.
USER_ROUTES = {
    ("edge", "POST", "/orders"),
    # A reservation's owner is known only once it is read: tests/integration/test_balance_*.
    ("balance", "*", "/api/reservations/{reservation_id}/commit"),
    ("balance", "*", "/api/reservations/{reservation_id}/release"),
    ("gateway", "*", "/api/{service}/{path:path}"),
    # A player opens tables, sits, acts and leaves for itself; a table's opener moderates it.
    ("game", "POST", "/tables"),
    ("game", "*", "/tables/{table_id}/seats"),
    ("game", "*", "/tables/{table_id}/seats/{user_id}"),
    ("game", "*", "/tables/{table_id}/actions"),
    ("game", "*", "/players/{user_id}/mute"),
}
_PARAM = re.compile(r"\{[^}]+\}")
FORGED: tuple[dict[str, str], ...] = (
    {},
    {"Authorization": "Bearer not-a-jwt"},
    {"Authorization": "Basic eA=="},
)
# Valid for the gateway's /events, so a user's 403 is not hidden behind a 422.
BODY = b'{"channel": "lobby", "data": {}}'
ROW_TABLES = ("products", "orders", "order_ledger", "payment_authorizations", "outbox")
# The gateway's sliding-window rate limiter (domain/gateway/ratelimit.py, keys `rl:<who>`)
# counts refused requests too, with a fresh member each time: that is its job, not a write the
# bad token caused. No other key is excluded.
RATE_LIMIT_KEYS = ("rl:*",)


@asynccontextmanager
async def _client(
    name: str, stack: SessionStack
) -> AsyncIterator[tuple[FastAPI, httpx.AsyncClient]]:
    if name == "balance":
        app = balance_http.create_app(
            BalanceBook.build(aioredis.Redis.from_url(stack.redis_url)), DEV_JWT_SECRET
        )
    elif name == "gateway":
        app = gateway_app(gateway_settings(stack.redis_url))
    elif name == "payments":
        app = payments_front(stack)
    elif name == "events":
        app = events_app(EventSettings(redis_url=stack.redis_url, database_url=stack.database_url))
    elif name == "game":
        app = game_app(
            GameSettings(redis_url=stack.redis_url, temporal_address=stack.temporal_address)
        )
    else:
        app = {"edge": edge, "orders": orders, "inventory": inventory}[name].create_app(
            stack.settings()
        )
    async with serving(app, f"http://{name}", headers={}) as client:
        yield app, client


def _flat(routes: Iterable[BaseRoute]) -> Iterator[BaseRoute]:
    for route in routes:
        # FastAPI keeps an included router as one entry that holds the router's own routes.
        included = getattr(route, "original_router", None)
        yield from _flat(included.routes) if included is not None else (route,)


def _routes(app: FastAPI) -> list[tuple[str, str]]:
    found = []
    for route in _flat(app.routes):
        if isinstance(route, APIRoute) and route.path not in PUBLIC:
            methods = route.methods or set()
            found += [(method, route.path) for method in sorted(methods - {"HEAD"})]
    return found


def _url(path: str) -> str:
    # Values valid for every id type, so only the token decides the answer.
    return _PARAM.sub(lambda m: "edge/orders" if "path" in m.group() else str(uuid.uuid4()), path)


async def _row_counts(db: asyncpg.Pool) -> dict[str, int]:
    return {t: await db.fetchval(f"SELECT count(*) FROM {t}") for t in ROW_TABLES}


@pytest.mark.parametrize(
    "front", ["edge", "orders", "inventory", "payments", "balance", "gateway", "game", "events"]
)
async def test_every_route_refuses_missing_forged_and_user_tokens(
    front: str, stack: SessionStack, db: asyncpg.Pool, redis: aioredis.Redis
) -> None:
    await seed_catalog(db)
    before = await _row_counts(db)
    keys_before = await redis.dbsize()
    values_before = await snapshot(db, redis, RATE_LIMIT_KEYS)
    async with _client(front, stack) as (app, client):
        routes = _routes(app)
        assert routes, "no protected route found"
        for method, path in routes:
            url = _url(path)
            headers = {"Idempotency-Key": f"k-{uuid.uuid4()}", "content-type": "application/json"}
            for auth in FORGED:
                sent = {**headers, **auth}
                answer = await client.request(method, url, headers=sent, content=BODY)
                assert answer.status_code == 401, (method, path, auth, answer.text)
                assert answer.json()["code"] == "UNAUTHENTICATED"
                assert answer.headers["content-type"] == "application/problem+json"
                after = await snapshot(db, redis, RATE_LIMIT_KEYS)
                assert_unchanged(values_before, after, (method, path, auth))
                tried("auth_missing_or_forged")
            user_may = {(front, method, path), (front, "*", path)} & USER_ROUTES
            if method in MUTATING and not user_may:
                as_user = {**headers, **user_auth("mallory")}
                answer = await client.request(method, url, headers=as_user, content=BODY)
                assert answer.status_code == 403, (method, path, answer.text)
                assert answer.json()["code"] == "FORBIDDEN"
                after = await snapshot(db, redis, RATE_LIMIT_KEYS)
                assert_unchanged(values_before, after, (method, path, "user"))
                tried("auth_user_on_service_route")
    assert await _row_counts(db) == before
    # The gateway's rate limiter counts refused requests; nothing else may have been written.
    if front != "gateway":
        assert await redis.dbsize() == keys_before


async def test_a_user_orders_only_for_itself_and_reads_only_its_own_orders(
    stack: SessionStack, db: asyncpg.Pool
) -> None:
    await seed_catalog(db)
    order = {
        "customer_id": "alice",
        "items": [{"product_id": "widget", "quantity": 1}],
        "payment_method": "pm_card_visa",
        "currency": "USD",
    }
    async with (
        serving(payments_front(stack), "http://payments") as psp,
        _client("edge", stack) as (app, client),
    ):
        app.dependency_overrides[edge.payments] = lambda: PaymentsClient(psp, "http://payments")
        key = {"Idempotency-Key": f"k-{uuid.uuid4()}"}
        forged = await client.post("/orders", json=order, headers={**key, **user_auth("mallory")})
        assert forged.status_code == 403
        assert await db.fetchval("SELECT count(*) FROM order_ledger") == 0
        placed = await client.post("/orders", json=order, headers={**key, **user_auth("alice")})
        assert placed.status_code == 202, placed.text
        ledger_id = placed.json()["order_ledger_id"]
        own = await client.get(f"/orders/{ledger_id}", headers=user_auth("alice"))
        assert own.status_code == 200
        other = await client.get(f"/orders/{ledger_id}", headers=user_auth("mallory"))
        assert other.status_code == 403
        assert "alice" not in other.text
        service = await client.get(f"/orders/{ledger_id}", headers=service_auth())
        assert service.json()["customer_id"] == "alice"
        tried("auth_user_on_service_route", 2)
