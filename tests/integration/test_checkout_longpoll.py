"""GET /orders/{id}?wait=N&seen=STATUS: a long-poll answered by LISTEN order_status."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator
from typing import Any

import asyncpg
import httpx
import pytest

from domain.checkout.ledger import LedgerRepository
from domain.checkout.models import LedgerStatus
from tests.conftest import SessionStack
from tests.integration.checkout_fronts import edge_with_payments

ORDER: dict[str, Any] = {
    "customer_id": "cust-lp",
    "items": [{"product_id": "widget", "quantity": 1}],
    "payment_method": "pm_card_visa",
    "currency": "USD",
}


@pytest.fixture
async def edge_client(stack: SessionStack, db: asyncpg.Pool) -> AsyncIterator[httpx.AsyncClient]:
    async with edge_with_payments(stack, db) as client:
        yield client


async def _placed(edge_client: httpx.AsyncClient) -> str:
    response = await edge_client.post(
        "/orders", json=ORDER, headers={"Idempotency-Key": f"lp-{uuid.uuid4()}"}
    )
    assert response.status_code == 202
    ledger_id: str = response.json()["order_ledger_id"]
    return ledger_id


async def _advance_later(db: asyncpg.Pool, ledger_id: str, delay: float) -> None:
    """The saga's first step, committed as its activity commits it, after `delay`."""
    await asyncio.sleep(delay)
    async with db.acquire() as conn, conn.transaction():
        change = await LedgerRepository(conn).advance(
            uuid.UUID(ledger_id), "create_order", "completed", status=LedgerStatus.ORDER_CREATED
        )
    assert change is not None


async def _timed_get(
    client: httpx.AsyncClient, ledger_id: str, **params: object
) -> tuple[httpx.Response, float]:
    """GET the order with `params`; the answer and the seconds it took."""
    started = time.monotonic()
    response = await client.get(f"/orders/{ledger_id}", params=params)  # type: ignore[arg-type]
    return response, time.monotonic() - started


async def test_answers_as_soon_as_the_status_changes(
    edge_client: httpx.AsyncClient, db: asyncpg.Pool
) -> None:
    ledger_id = await _placed(edge_client)
    mover = asyncio.create_task(_advance_later(db, ledger_id, 0.5))

    response, elapsed = await _timed_get(edge_client, ledger_id, wait=10, seen="AUTHORIZED")
    await mover

    assert response.status_code == 200
    assert response.json()["status"] == "ORDER_CREATED"
    assert 0.4 < elapsed < 3, elapsed


async def test_without_seen_waits_for_the_next_change(
    edge_client: httpx.AsyncClient, db: asyncpg.Pool
) -> None:
    ledger_id = await _placed(edge_client)
    mover = asyncio.create_task(_advance_later(db, ledger_id, 0.3))

    response = await edge_client.get(f"/orders/{ledger_id}", params={"wait": 10})
    await mover

    assert response.json()["status"] == "ORDER_CREATED"


async def test_answers_at_once_when_seen_is_already_stale(
    edge_client: httpx.AsyncClient,
) -> None:
    ledger_id = await _placed(edge_client)

    response, elapsed = await _timed_get(edge_client, ledger_id, wait=10, seen="ORDER_CREATED")

    assert response.json()["status"] == "AUTHORIZED"
    assert elapsed < 2, elapsed


async def test_answers_at_the_timeout_with_the_unchanged_status(
    edge_client: httpx.AsyncClient, db: asyncpg.Pool
) -> None:
    ledger_id = await _placed(edge_client)
    # Another order's step wakes nobody waiting on this one.
    other = await _placed(edge_client)
    mover = asyncio.create_task(_advance_later(db, other, 0.2))

    response, elapsed = await _timed_get(edge_client, ledger_id, wait=1.5, seen="AUTHORIZED")
    await mover

    assert response.status_code == 200
    assert response.json()["status"] == "AUTHORIZED"
    assert 1.4 < elapsed < 4, elapsed


@pytest.mark.parametrize(
    "params",
    [
        {"wait": "0"},
        {"wait": "-1"},
        {"wait": "31"},
        {"wait": "soon"},
        {"wait": "5", "seen": "NOT_A_STATUS"},
    ],
)
async def test_bad_wait_or_seen_is_a_422_problem_and_changes_nothing(
    edge_client: httpx.AsyncClient, db: asyncpg.Pool, params: dict[str, str]
) -> None:
    ledger_id = await _placed(edge_client)
    before = await db.fetchrow(
        "SELECT status, steps::text, updated_at FROM order_ledger WHERE order_ledger_id = $1",
        uuid.UUID(ledger_id),
    )

    response = await edge_client.get(f"/orders/{ledger_id}", params=params)

    assert response.status_code == 422
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.json()["code"] == "VALIDATION_FAILED"
    after = await db.fetchrow(
        "SELECT status, steps::text, updated_at FROM order_ledger WHERE order_ledger_id = $1",
        uuid.UUID(ledger_id),
    )
    assert after == before


async def test_a_final_status_equal_to_seen_answers_at_once(
    edge_client: httpx.AsyncClient, db: asyncpg.Pool
) -> None:
    ledger_id = await _placed(edge_client)
    async with db.acquire() as conn:
        await LedgerRepository(conn).advance(
            uuid.UUID(ledger_id),
            "record_failure",
            "failed",
            status=LedgerStatus.FAILED,
            failure_reason="OUT_OF_STOCK: test",
        )

    started = time.monotonic()
    response = await edge_client.get(f"/orders/{ledger_id}", params={"wait": 10, "seen": "FAILED"})

    assert response.json()["status"] == "FAILED"
    assert time.monotonic() - started < 2
