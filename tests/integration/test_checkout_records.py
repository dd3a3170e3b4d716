"""Orders over HTTP: create from a ledger entry, read, confirm and cancel."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import asyncpg
import httpx
import pytest

from tests.conftest import SessionStack
from tests.integration.checkout_fronts import orders_front, serving


@pytest.fixture
async def orders_client(stack: SessionStack, db: asyncpg.Pool) -> AsyncIterator[httpx.AsyncClient]:
    async with serving(orders_front(stack), "http://orders") as client:
        yield client


def _body(ledger_id: uuid.UUID) -> dict[str, object]:
    return {
        "order_ledger_id": str(ledger_id),
        "customer_id": "cust-1",
        "items": [{"product_id": "widget", "quantity": 2, "unit_price_cents": 1250}],
    }


async def test_create_once_per_ledger_entry_and_read(orders_client: httpx.AsyncClient) -> None:
    ledger_id = uuid.uuid4()
    created = await orders_client.post("/orders", json=_body(ledger_id))
    again = await orders_client.post("/orders", json=_body(ledger_id))

    assert created.status_code == 201
    assert again.status_code == 200
    assert again.json()["order_id"] == created.json()["order_id"]
    order = (await orders_client.get(f"/orders/{created.json()['order_id']}")).json()
    assert order["status"] == "CREATED"
    assert order["total_cents"] == 2500
    assert order["items"][0]["line_total_cents"] == 2500


async def test_confirm_and_cancel_are_idempotent_and_guarded(
    orders_client: httpx.AsyncClient,
) -> None:
    confirmed_id = (await orders_client.post("/orders", json=_body(uuid.uuid4()))).json()[
        "order_id"
    ]
    cancelled_id = (await orders_client.post("/orders", json=_body(uuid.uuid4()))).json()[
        "order_id"
    ]

    for _ in range(2):
        confirmed = await orders_client.put(f"/orders/{confirmed_id}/confirm")
        cancelled = await orders_client.put(f"/orders/{cancelled_id}/cancel")
        assert confirmed.json()["status"] == "CONFIRMED"
        assert cancelled.json()["status"] == "CANCELLED"
    refused = await orders_client.put(f"/orders/{confirmed_id}/cancel")
    assert refused.status_code == 409
    assert refused.json()["code"] == "INVALID_STATE"


async def test_unknown_and_malformed_orders(orders_client: httpx.AsyncClient) -> None:
    assert (await orders_client.get(f"/orders/{uuid.uuid4()}")).status_code == 404
    assert (await orders_client.put(f"/orders/{uuid.uuid4()}/confirm")).status_code == 404
    assert (await orders_client.get("/orders/123")).status_code == 422
    bad = await orders_client.post("/orders", json={**_body(uuid.uuid4()), "items": []})
    assert bad.status_code == 422
    negative = _body(uuid.uuid4())
    negative["items"] = [{"product_id": "w", "quantity": 1, "unit_price_cents": -5}]
    assert (await orders_client.post("/orders", json=negative)).status_code == 422
