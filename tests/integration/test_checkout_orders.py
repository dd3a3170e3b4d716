"""The edge API over HTTP: POST /orders and GET /orders/{order_ledger_id}."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator
from typing import Any

import asyncpg
import httpx
import pytest

from apis.checkout import edge
from domain.payments.client import PaymentsClient
from tests.conftest import SessionStack
from tests.integration.checkout_fronts import edge_with_payments


@pytest.fixture
async def edge_client(stack: SessionStack, db: asyncpg.Pool) -> AsyncIterator[httpx.AsyncClient]:
    async with edge_with_payments(stack, db) as client:
        yield client


ORDER: dict[str, Any] = {
    "customer_id": "cust-7",
    "items": [{"product_id": "widget", "quantity": 2}, {"product_id": "gadget", "quantity": 1}],
    "payment_method": "pm_card_visa",
    "currency": "USD",
}


def _key() -> dict[str, str]:
    return {"Idempotency-Key": f"key-{uuid.uuid4()}"}


async def test_accepts_prices_and_writes_ledger_items_and_outbox(
    edge_client: httpx.AsyncClient, db: asyncpg.Pool
) -> None:
    response = await edge_client.post("/orders", json=ORDER, headers=_key())

    assert response.status_code == 202
    body = response.json()
    assert body["status"] == "AUTHORIZED"
    assert body["total_cents"] == 2 * 1250 + 4999
    assert body["workflow_id"] == f"order-{body['order_ledger_id']}"
    assert "Idempotency-Replayed" not in response.headers
    ledger_id = uuid.UUID(body["order_ledger_id"])
    assert await db.fetchval("SELECT count(*) FROM order_ledger_items") == 2
    payload = await db.fetchval(
        "SELECT payload::text FROM outbox WHERE aggregate_id = $1", ledger_id
    )
    assert '"authorization_id": "auth_' in payload
    assert await db.fetchval("SELECT status FROM payment_authorizations") == "AUTHORIZED"


async def test_same_key_same_body_replays_the_answer(
    edge_client: httpx.AsyncClient, db: asyncpg.Pool
) -> None:
    key = _key()
    first = await edge_client.post("/orders", json=ORDER, headers=key)
    second = await edge_client.post("/orders", json=ORDER, headers=key)

    assert second.status_code == 202
    assert second.json() == first.json()
    assert second.headers["Idempotency-Replayed"] == "true"
    assert await db.fetchval("SELECT count(*) FROM order_ledger") == 1
    assert await db.fetchval("SELECT count(*) FROM outbox") == 1
    assert await db.fetchval("SELECT count(*) FROM payment_authorizations") == 1


async def test_concurrent_twins_share_one_order(
    edge_client: httpx.AsyncClient, db: asyncpg.Pool
) -> None:
    key = _key()
    answers = await asyncio.gather(
        *(edge_client.post("/orders", json=ORDER, headers=key) for _ in range(4))
    )

    assert {a.status_code for a in answers} == {202}
    assert len({a.json()["order_ledger_id"] for a in answers}) == 1
    assert await db.fetchval("SELECT count(*) FROM order_ledger") == 1
    assert await db.fetchval("SELECT count(*) FROM payment_authorizations") == 1


async def test_same_key_different_body_is_a_conflict(
    edge_client: httpx.AsyncClient, db: asyncpg.Pool
) -> None:
    key = _key()
    await edge_client.post("/orders", json=ORDER, headers=key)
    response = await edge_client.post("/orders", json={**ORDER, "customer_id": "x"}, headers=key)

    assert response.status_code == 409
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["code"] == "IDEMPOTENCY_KEY_REUSED"
    assert await db.fetchval("SELECT count(*) FROM order_ledger") == 1


async def test_declined_authorization_is_402_without_saga_and_replays(
    edge_client: httpx.AsyncClient, db: asyncpg.Pool
) -> None:
    key = _key()
    declined = {**ORDER, "payment_method": "pm_card_declined"}
    first = await edge_client.post("/orders", json=declined, headers=key)
    again = await edge_client.post("/orders", json=declined, headers=key)

    assert first.status_code == 402
    assert first.headers["content-type"] == "application/problem+json"
    assert first.json()["status"] == "PAYMENT_DECLINED"
    assert first.json()["code"] == "PAYMENT_DECLINED"
    assert again.status_code == 402
    assert again.json() == first.json()
    assert again.headers["Idempotency-Replayed"] == "true"
    assert await db.fetchval("SELECT count(*) FROM outbox") == 0
    view = await edge_client.get(f"/orders/{first.json()['order_ledger_id']}")
    assert view.json()["status"] == "PAYMENT_DECLINED"


async def test_the_402_problem_keeps_every_field(edge_client: httpx.AsyncClient) -> None:
    declined = {**ORDER, "payment_method": "pm_card_declined"}
    response = await edge_client.post("/orders", json=declined, headers=_key())

    body = response.json()
    expected = {
        "type": "https://saga.dev/problems/payment-declined",
        "title": "Payment declined",
        "status": "PAYMENT_DECLINED",
        "code": "PAYMENT_DECLINED",
        "detail": "the card was declined at authorization; no order was started",
        "order_ledger_id": body["order_ledger_id"],
        "total_cents": 2 * 1250 + 4999,
        "workflow_id": None,
    }
    assert response.status_code == 402
    assert list(body.items()) == list(expected.items())  # the same fields, in the same order


@pytest.mark.parametrize("payment_method", ["pm_card_visa", "pm_card_declined"])
async def test_rows_holding_the_old_http_body_replay_the_same_answer(
    edge_client: httpx.AsyncClient, db: asyncpg.Pool, payment_method: str
) -> None:
    key = _key()
    order = {**ORDER, "payment_method": payment_method}
    first = await edge_client.post("/orders", json=order, headers=key)
    # What edges wrote before the ledger stored the placement: the HTTP answer itself.
    await db.execute(
        "UPDATE order_ledger SET response_code = $1, response_body = $2::jsonb",
        first.status_code,
        json.dumps(first.json()),
    )

    again = await edge_client.post("/orders", json=order, headers=key)

    assert (again.status_code, again.json()) == (first.status_code, first.json())
    assert again.headers["content-type"] == first.headers["content-type"]
    assert again.headers["Idempotency-Replayed"] == "true"


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ({**ORDER, "items": [{"product_id": "nope", "quantity": 1}]}, "UNKNOWN_PRODUCT"),
        ({**ORDER, "items": []}, "VALIDATION_FAILED"),
        ({**ORDER, "items": [{"product_id": "widget", "quantity": 0}]}, "VALIDATION_FAILED"),
        ({**ORDER, "items": [{"product_id": "widget", "quantity": "2"}]}, "VALIDATION_FAILED"),
        ({**ORDER, "items": [{"product_id": "widget", "quantity": 1.5}]}, "VALIDATION_FAILED"),
        ({**ORDER, "currency": "EUR"}, "VALIDATION_FAILED"),
        ({**ORDER, "customer_id": ""}, "VALIDATION_FAILED"),
        ({**ORDER, "surprise": 1}, "VALIDATION_FAILED"),
        ({"customer_id": "c"}, "VALIDATION_FAILED"),
    ],
)
async def test_bad_orders_are_422_and_change_nothing(
    edge_client: httpx.AsyncClient, db: asyncpg.Pool, body: dict[str, Any], code: str
) -> None:
    response = await edge_client.post("/orders", json=body, headers=_key())

    assert response.status_code == 422
    assert response.json()["code"] == code
    assert await db.fetchval("SELECT count(*) FROM order_ledger") == 0
    assert await db.fetchval("SELECT count(*) FROM payment_authorizations") == 0


async def test_malformed_json_and_missing_key_are_4xx(edge_client: httpx.AsyncClient) -> None:
    malformed = await edge_client.post(
        "/orders", content=b"{nope", headers={**_key(), "content-type": "application/json"}
    )
    no_key = await edge_client.post("/orders", json=ORDER)

    assert malformed.status_code == 422
    assert no_key.status_code == 400
    assert no_key.json()["code"] == "IDEMPOTENCY_KEY_REQUIRED"


async def test_payments_outage_is_503_with_retry_after_and_nothing_stored(
    edge_client: httpx.AsyncClient, db: asyncpg.Pool
) -> None:
    app = edge_client._transport.app  # type: ignore[attr-defined]
    async with httpx.AsyncClient(timeout=1) as dead:
        app.dependency_overrides[edge.payments] = lambda: PaymentsClient(dead, "http://127.0.0.1:9")
        response = await edge_client.post("/orders", json=ORDER, headers=_key())

    assert response.status_code == 503
    assert response.headers["Retry-After"]
    assert response.json()["code"] == "PAYMENT_UNAVAILABLE"
    assert await db.fetchval("SELECT count(*) FROM order_ledger") == 0


async def test_get_order_shows_status_items_steps_and_retry_state(
    edge_client: httpx.AsyncClient,
) -> None:
    placed = (await edge_client.post("/orders", json=ORDER, headers=_key())).json()

    response = await edge_client.get(f"/orders/{placed['order_ledger_id']}")

    assert response.status_code == 200
    view = response.json()
    assert view["status"] == "AUTHORIZED"
    assert view["total_cents"] == placed["total_cents"]
    assert [(i["product_id"], i["quantity"]) for i in view["items"]] == [
        ("gadget", 1),
        ("widget", 2),
    ]
    assert view["steps"][0]["step"] == "authorize_payment"
    assert view["failure_reason"] is None
    assert view["retry_count"] == 0
    assert view["next_retry_at"] is None
    assert view["workflow_id"] == placed["workflow_id"]


async def test_get_unknown_or_malformed_order_is_4xx(edge_client: httpx.AsyncClient) -> None:
    missing = await edge_client.get(f"/orders/{uuid.uuid4()}")
    malformed = await edge_client.get("/orders/not-a-uuid")

    assert missing.status_code == 404
    assert missing.json()["code"] == "NOT_FOUND"
    assert malformed.status_code == 422


async def test_health_and_metrics(edge_client: httpx.AsyncClient) -> None:
    assert (await edge_client.get("/health")).json()["status"] == "ok"
    await edge_client.get("/orders/not-a-uuid")
    metrics = await edge_client.get("/metrics")
    assert 'saga_http_requests_total{method="GET",route="/orders/{order_ledger_id}"' in metrics.text
