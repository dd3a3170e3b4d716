"""Hostile ids in paths and bodies are 4xx on every HTTP front, and change nothing.

The ids are checked in one place per context (domain/validation.py for the order saga,
domain/balance/validation.py for balances), before any SQL runs or any Redis key is built.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack
from typing import Any
from urllib.parse import quote

import asyncpg
import httpx
import pytest
import redis.asyncio as aioredis

from apis import inventory, orders
from apis.balance.rest import app as balance_http
from apis.checkout import edge
from domain.balance.book import BalanceBook
from infra.settings import DEV_JWT_SECRET
from tests.checkout_support import seed_catalog
from tests.conftest import SessionStack
from tests.integration.checkout_fronts import payments_front, serving
from tests.security.hostile import HOSTILE_IDS
from tests.security.tally import tried
from tests.snapshots import assert_unchanged, snapshot

TABLES = (
    "products",
    "inventory_adjustments",
    "inventory_reservations",
    "orders",
    "order_ledger",
    "payment_authorizations",
    "outbox",
)


@pytest.fixture
async def clients(stack: SessionStack, db: asyncpg.Pool) -> AsyncIterator[dict[str, Any]]:
    await seed_catalog(db)
    balance = balance_http.create_app(
        BalanceBook.build(aioredis.Redis.from_url(stack.redis_url)), DEV_JWT_SECRET
    )
    apps = {
        "edge": edge.create_app(stack.settings()),
        "orders": orders.create_app(stack.settings()),
        "inventory": inventory.create_app(stack.settings()),
        "payments": payments_front(stack),
        "balance": balance,
    }
    async with AsyncExitStack() as opened:
        found = {
            name: await opened.enter_async_context(serving(app, f"http://{name}"))
            for name, app in apps.items()
        }
        yield found


def _requests(bad: str) -> list[tuple[str, str, str, dict[str, Any] | None]]:
    """(front, method, path, body) with `bad` in a path segment or a body id."""
    p = quote(bad, safe="")
    order = {"items": [{"product_id": "widget", "quantity": 1}], "payment_method": "pm_card_visa"}
    return [
        ("inventory", "GET", f"/inventory/products/{p}/availability", None),
        ("inventory", "POST", f"/inventory/products/{p}/stock", {"quantity": 1}),
        ("inventory", "DELETE", f"/inventory/reservations/{p}", None),
        (
            "inventory",
            "POST",
            "/inventory/products",
            {"product_id": bad, "name": "n", "price_cents": 1},
        ),
        (
            "inventory",
            "POST",
            "/inventory/reservations",
            {"order_id": bad, "items": [{"product_id": "widget", "quantity": 1}]},
        ),
        ("payments", "POST", f"/payments/capture/{p}", None),
        ("payments", "POST", f"/payments/void/{p}", None),
        ("payments", "GET", f"/payments/authorizations/{p}", None),
        ("payments", "POST", "/payments/authorize", {"payment_method": bad, "amount_cents": 1}),
        ("orders", "GET", f"/orders/{p}", None),
        ("orders", "PUT", f"/orders/{p}/cancel", None),
        ("edge", "GET", f"/orders/{p}", None),
        ("edge", "POST", "/orders", {**order, "customer_id": bad}),
        ("edge", "POST", "/orders", {**order, "customer_id": "c", "payment_method": bad}),
        (
            "edge",
            "POST",
            "/orders",
            {**order, "customer_id": "c", "items": [{"product_id": bad, "quantity": 1}]},
        ),
        ("balance", "PUT", f"/api/accounts/{p}", None),
        ("balance", "GET", f"/api/accounts/{p}/balance", None),
        ("balance", "POST", f"/api/accounts/{p}/deposit", {"amount": 5}),
        ("balance", "GET", f"/api/accounts/{p}/ledger", None),
        ("balance", "POST", f"/api/reservations/{p}/commit", {"amount": 0}),
    ]


async def _snapshot(db: asyncpg.Pool, redis: aioredis.Redis) -> tuple[Any, ...]:
    counts = tuple([await db.fetchval(f"SELECT count(*) FROM {t}") for t in TABLES])
    stock = await db.fetch("SELECT product_id, stock_on_hand, stock_reserved FROM products")
    return counts, sorted(map(tuple, stock)), sorted(await redis.keys("*"))


async def test_hostile_ids_are_refused_and_change_nothing(
    clients: dict[str, httpx.AsyncClient], db: asyncpg.Pool, redis: aioredis.Redis
) -> None:
    before = await _snapshot(db, redis)
    values_before = await snapshot(db, redis)
    for bad in HOSTILE_IDS:
        for front, method, path, body in _requests(bad):
            if "//" in path or path.endswith("/"):
                continue  # an empty segment is no id: the router answers that (307 or 404)
            headers = {"Idempotency-Key": f"k-{uuid.uuid4()}"}
            answer = await clients[front].request(method, path, json=body, headers=headers)
            assert 400 <= answer.status_code < 500, (front, method, path[:80], answer.text[:200])
            assert answer.headers["content-type"] == "application/problem+json"
            assert_unchanged(values_before, await snapshot(db, redis), (front, method, path[:80]))
            tried("id_injection")
    assert await _snapshot(db, redis) == before
    # The database still answers as before: the catalog is whole.
    listed = await clients["inventory"].get("/inventory/products")
    assert {p["product_id"] for p in listed.json()} == {"widget", "gadget"}
