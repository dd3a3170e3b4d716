"""Inventory over HTTP: products, stock with idempotency, availability, reservations."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import asyncpg
import httpx
import pytest

from tests.conftest import SessionStack
from tests.integration.checkout_fronts import inventory_front, serving


@pytest.fixture
async def inventory_client(
    stack: SessionStack, db: asyncpg.Pool
) -> AsyncIterator[httpx.AsyncClient]:
    async with serving(inventory_front(stack), "http://inventory") as client:
        yield client


WIDGET = {"product_id": "widget", "name": "Widget", "price_cents": 1250, "initial_stock": 5}


async def _available(client: httpx.AsyncClient, product_id: str = "widget") -> int:
    response = await client.get(f"/inventory/products/{product_id}/availability")
    available: int = response.json()["available"]
    return available


async def test_create_product_is_idempotent_and_listed(inventory_client: httpx.AsyncClient) -> None:
    created = await inventory_client.post("/inventory/products", json=WIDGET)
    again = await inventory_client.post("/inventory/products", json=WIDGET)
    clash = await inventory_client.post("/inventory/products", json={**WIDGET, "price_cents": 1})

    assert created.status_code == 201
    assert again.status_code == 200
    assert clash.status_code == 409
    assert clash.json()["code"] == "ALREADY_EXISTS"
    listed = (await inventory_client.get("/inventory/products")).json()
    assert [(p["product_id"], p["price_cents"], p["available"]) for p in listed] == [
        ("widget", 1250, 5)
    ]


async def test_add_stock_once_per_key(inventory_client: httpx.AsyncClient) -> None:
    await inventory_client.post("/inventory/products", json=WIDGET)
    headers = {"Idempotency-Key": "restock-1"}
    path = "/inventory/products/widget/stock"

    first = await inventory_client.post(path, json={"quantity": 3}, headers=headers)
    replay = await inventory_client.post(path, json={"quantity": 3}, headers=headers)
    reused = await inventory_client.post(path, json={"quantity": 4}, headers=headers)
    missing_key = await inventory_client.post(path, json={"quantity": 3})
    unknown = await inventory_client.post(
        "/inventory/products/nope/stock", json={"quantity": 1}, headers=headers
    )

    assert first.json()["on_hand"] == 8
    assert replay.json()["on_hand"] == 8
    assert replay.headers["Idempotency-Replayed"] == "true"
    assert reused.status_code == 409
    assert reused.json()["code"] == "IDEMPOTENCY_KEY_REUSED"
    assert missing_key.status_code == 400
    assert unknown.status_code == 404
    assert await _available(inventory_client) == 8


async def test_reserve_and_release_are_idempotent(inventory_client: httpx.AsyncClient) -> None:
    await inventory_client.post("/inventory/products", json=WIDGET)
    body = {"order_id": "o-1", "items": [{"product_id": "widget", "quantity": 2}]}

    first = await inventory_client.post("/inventory/reservations", json=body)
    again = await inventory_client.post("/inventory/reservations", json=body)
    assert first.status_code == again.status_code == 201
    assert await _available(inventory_client) == 3

    released = await inventory_client.delete("/inventory/reservations/o-1")
    released_again = await inventory_client.delete("/inventory/reservations/o-1")
    assert released.json()["released"] == [{"product_id": "widget", "quantity": 2}]
    assert released_again.json()["released"] == []
    assert await _available(inventory_client) == 5
    after_release = await inventory_client.post("/inventory/reservations", json=body)
    assert after_release.status_code == 409
    assert after_release.json()["code"] == "RESERVATION_ALREADY_RESOLVED"


async def test_out_of_stock_reserves_nothing(
    inventory_client: httpx.AsyncClient, db: asyncpg.Pool
) -> None:
    await inventory_client.post("/inventory/products", json=WIDGET)
    await inventory_client.post(
        "/inventory/products", json={**WIDGET, "product_id": "gadget", "initial_stock": 1}
    )
    body = {
        "order_id": "o-2",
        "items": [{"product_id": "widget", "quantity": 1}, {"product_id": "gadget", "quantity": 2}],
    }

    response = await inventory_client.post("/inventory/reservations", json=body)

    assert response.status_code == 409
    assert response.json()["code"] == "OUT_OF_STOCK"
    assert response.json()["product_id"] == "gadget"
    assert await db.fetchval("SELECT count(*) FROM inventory_reservations") == 0
    assert await _available(inventory_client) == 5


async def test_concurrent_reservations_never_oversell(inventory_client: httpx.AsyncClient) -> None:
    await inventory_client.post("/inventory/products", json=WIDGET)
    answers = await asyncio.gather(
        *(
            inventory_client.post(
                "/inventory/reservations",
                json={"order_id": f"o-{i}", "items": [{"product_id": "widget", "quantity": 2}]},
            )
            for i in range(6)
        )
    )

    assert sorted(a.status_code for a in answers) == [201, 201, 409, 409, 409, 409]
    assert await _available(inventory_client) == 1


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("POST", "/inventory/products", {**WIDGET, "price_cents": -1}),
        ("POST", "/inventory/products", {**WIDGET, "product_id": "has space"}),
        ("POST", "/inventory/reservations", {"order_id": "o", "items": []}),
        (
            "POST",
            "/inventory/reservations",
            {"order_id": "o", "items": [{"product_id": "nope", "quantity": 1}]},
        ),
        (
            "POST",
            "/inventory/reservations",
            {"order_id": "o", "items": [{"product_id": "widget", "quantity": 0}]},
        ),
    ],
)
async def test_bad_input_is_4xx(
    inventory_client: httpx.AsyncClient, method: str, path: str, body: dict[str, object]
) -> None:
    response = await inventory_client.request(method, path, json=body)

    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"


async def test_unknown_product_availability_is_404(inventory_client: httpx.AsyncClient) -> None:
    response = await inventory_client.get("/inventory/products/nope/availability")
    assert response.status_code == 404
