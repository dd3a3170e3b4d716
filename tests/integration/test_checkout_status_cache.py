"""GET /orders/{id} answers pollers from a cache that the ledger's notifications keep current.

A kept answer must never be older than a committed change once that change is announced:
every write to the ledger row notifies, the notification drops the answer, an answer read
while its order was notified is not kept, and losing the LISTEN connection drops them all.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import asyncpg
import httpx
import pytest
from fastapi import FastAPI

from apis.checkout import cached_read, edge
from domain.checkout import status_watch
from domain.checkout.ledger import LedgerRepository
from domain.checkout.models import LedgerStatus
from domain.checkout.status_watch import CachedView, StatusWatcher
from domain.payments.client import PaymentsClient
from infra.http_telemetry import REQUESTS
from tests.checkout_support import seed_catalog
from tests.conftest import SessionStack
from tests.eventually import assert_eventually
from tests.integration.checkout_fronts import payments_front, serving, user_auth

ORDER: dict[str, Any] = {
    "customer_id": "cust-cache",
    "items": [{"product_id": "widget", "quantity": 1}],
    "payment_method": "pm_card_visa",
    "currency": "USD",
}


@pytest.fixture
async def served(
    stack: SessionStack, db: asyncpg.Pool
) -> AsyncIterator[tuple[FastAPI, httpx.AsyncClient]]:
    await seed_catalog(db)
    async with serving(payments_front(stack), "http://payments") as psp:
        app = edge.create_app(stack.settings())
        app.dependency_overrides[edge.payments] = lambda: PaymentsClient(psp, "http://payments")
        async with serving(app, "http://edge") as client:
            yield app, client


async def _placed(client: httpx.AsyncClient) -> str:
    answer = await client.post(
        "/orders", json=ORDER, headers={"Idempotency-Key": str(uuid.uuid4())}
    )
    assert answer.status_code == 202
    return str(answer.json()["order_ledger_id"])


async def _get(client: httpx.AsyncClient, ledger_id: str) -> dict[str, Any]:
    answer = await client.get(f"/orders/{ledger_id}")
    assert answer.status_code == 200
    found: dict[str, Any] = answer.json()
    return found


async def _kept(
    served: tuple[FastAPI, httpx.AsyncClient],
) -> tuple[StatusWatcher, httpx.AsyncClient, str, dict[str, Any]]:
    """A placed order, read once, so that its answer is kept: (watcher, client, id, answer)."""
    app, client = served
    watcher: StatusWatcher = app.state.status_watcher
    ledger_id = await _placed(client)
    first = await _get(client, ledger_id)
    assert watcher.cached(ledger_id) is not None  # the next poll is answered without a query
    return watcher, client, ledger_id, first


async def test_a_committed_step_replaces_the_kept_answer(
    served: tuple[FastAPI, httpx.AsyncClient], db: asyncpg.Pool
) -> None:
    watcher, client, ledger_id, first = await _kept(served)
    assert first["status"] == "AUTHORIZED"
    assert (await _get(client, ledger_id))["status"] == "AUTHORIZED"
    async with db.acquire() as conn, conn.transaction():
        await LedgerRepository(conn).advance(
            uuid.UUID(ledger_id), "create_order", "completed", status=LedgerStatus.ORDER_CREATED
        )

    async def dropped() -> None:
        assert watcher.cached(ledger_id) is None

    await assert_eventually(dropped, timeout=2)
    assert (await _get(client, ledger_id))["status"] == "ORDER_CREATED"


async def test_a_counted_retry_replaces_the_kept_answer(
    served: tuple[FastAPI, httpx.AsyncClient], db: asyncpg.Pool
) -> None:
    _, client, ledger_id, first = await _kept(served)
    assert first["retry_count"] == 0
    async with db.acquire() as conn:
        await LedgerRepository(conn).note_retry(
            uuid.UUID(ledger_id), "capture_payment", 1, datetime.now(UTC)
        )

    async def counted() -> None:
        assert (await _get(client, ledger_id))["retry_count"] == 1

    await assert_eventually(counted, timeout=2)


async def test_a_stranger_is_refused_a_kept_answer(
    served: tuple[FastAPI, httpx.AsyncClient],
) -> None:
    _, client, ledger_id, _ = await _kept(served)
    other = await client.get(f"/orders/{ledger_id}", headers=user_auth("mallory"))
    assert other.status_code == 403
    assert "cust-cache" not in other.text


async def test_an_answer_read_while_its_order_moved_is_not_kept(stack: SessionStack) -> None:
    watcher = StatusWatcher(stack.database_url)
    try:
        assert await watcher.start_listening()
        read_at = watcher.mark("o-1")
        watcher._notified(None, 0, "order_status", "o-1")  # arrives mid-read
        watcher.keep("o-1", CachedView("c", b"{}"), read_at)
        assert watcher.cached("o-1") is None
        # Another order's notification mid-read does not make this answer stale.
        read_at = watcher.mark("o-1")
        watcher._notified(None, 0, "order_status", "some-other-order")
        watcher.keep("o-1", CachedView("c", b"{}"), read_at)
        assert watcher.cached("o-1") == CachedView("c", b"{}")
    finally:
        await watcher.close()


async def test_forgetting_the_oldest_count_keeps_no_answer_read_meanwhile(
    stack: SessionStack, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(status_watch, "COUNTED_ORDERS", 2)
    watcher = StatusWatcher(stack.database_url)
    try:
        assert await watcher.start_listening()
        watcher._notified(None, 0, "order_status", "o-1")
        read_at = watcher.mark("o-1")
        # Two other orders push o-1's count out: its mark can no longer be compared.
        watcher._notified(None, 0, "order_status", "o-2")
        watcher._notified(None, 0, "order_status", "o-3")
        watcher.keep("o-1", CachedView("c", b"{}"), read_at)
        assert watcher.cached("o-1") is None
    finally:
        await watcher.close()


async def test_losing_the_listener_forgets_every_answer(
    served: tuple[FastAPI, httpx.AsyncClient], db: asyncpg.Pool
) -> None:
    watcher, client, ledger_id, _ = await _kept(served)
    await db.execute(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
        "WHERE query LIKE 'LISTEN%' AND pid <> pg_backend_pid()"
    )

    async def forgotten() -> None:
        assert watcher.cached(ledger_id) is None

    await assert_eventually(forgotten, timeout=5)
    # The next answer is read again (and the listener reopened).
    assert (await _get(client, ledger_id))["status"] == "AUTHORIZED"


async def test_a_kept_answer_is_served_below_fastapi_with_the_same_bytes_and_telemetry(
    served: tuple[FastAPI, httpx.AsyncClient],
) -> None:
    app, client = served
    _, _, ledger_id, first = await _kept(served)
    counted = REQUESTS.labels("edge", "GET", cached_read.ORDER_PATH, "200")
    before = counted._value.get()

    async def not_here() -> StatusWatcher:
        raise AssertionError("the FastAPI route answered a kept order")

    # The FastAPI route's dependency would fail: only the ASGI fast path can answer.
    app.dependency_overrides[edge.status_watcher] = not_here
    fast = await client.get(f"/orders/{ledger_id}", headers={"X-Request-Id": "poll-1"})
    assert fast.status_code == 200
    assert fast.json() == first
    assert fast.headers["content-type"] == "application/json"
    assert fast.headers["x-request-id"] == "poll-1"
    assert int(fast.headers["content-length"]) == len(fast.content)
    assert counted._value.get() == before + 1  # metrics under the route's template

    # What FastAPI answers for the same order is the same bytes.
    del app.dependency_overrides[edge.status_watcher]
    spelled = await client.get(f"/orders/{ledger_id.upper()}")  # not the cache's key: FastAPI
    assert spelled.status_code == 200
    assert spelled.content == fast.content


@pytest.mark.parametrize("authorization", ["", "Bearer not.a.token"], ids=["missing", "forged"])
async def test_a_kept_answer_still_needs_a_valid_token(
    served: tuple[FastAPI, httpx.AsyncClient], authorization: str
) -> None:
    _, client, ledger_id, _ = await _kept(served)
    refused = await client.get(f"/orders/{ledger_id}", headers={"Authorization": authorization})
    assert refused.status_code == 401
    assert refused.headers["content-type"] == "application/problem+json"
    assert refused.headers["www-authenticate"] == "Bearer"
    assert refused.json()["code"] == "UNAUTHENTICATED"


async def test_a_kept_order_with_a_query_or_another_method_goes_to_the_route(
    served: tuple[FastAPI, httpx.AsyncClient],
) -> None:
    _, client, ledger_id, first = await _kept(served)
    bad_wait = await client.get(f"/orders/{ledger_id}", params={"wait": "soon"})
    assert bad_wait.status_code == 422
    assert bad_wait.json()["code"] == "VALIDATION_FAILED"
    twice = await client.get(f"/orders/{ledger_id}?seen=AUTHORIZED&seen=CONFIRMED&wait=1")
    assert twice.status_code == 422
    waited = await client.get(f"/orders/{ledger_id}", params={"wait": 1, "seen": "CONFIRMED"})
    assert waited.status_code == 200
    assert waited.json()["status"] == first["status"]
    for method in ("HEAD", "POST", "DELETE"):
        refused = await client.request(method, f"/orders/{ledger_id}")
        assert refused.status_code == 405, method
        assert refused.headers["allow"] == "GET", method
