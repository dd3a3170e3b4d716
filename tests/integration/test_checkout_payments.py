"""The mock PSP over HTTP: authorize, capture, void, test tokens, idempotency, bad input."""

from __future__ import annotations

from collections.abc import AsyncIterator

import asyncpg
import httpx
import pytest

from domain.payments.psp import MockPsp
from tests.conftest import SessionStack
from tests.integration.checkout_fronts import payments_front, serving


@pytest.fixture
async def payments_client(
    stack: SessionStack, db: asyncpg.Pool
) -> AsyncIterator[httpx.AsyncClient]:
    async with serving(payments_front(stack), "http://payments") as client:
        yield client


async def _authorize(client: httpx.AsyncClient, method: str = "pm_card_visa") -> httpx.Response:
    return await client.post(
        "/payments/authorize", json={"payment_method": method, "amount_cents": 1000}
    )


async def test_authorize_capture_void_and_their_replays(payments_client: httpx.AsyncClient) -> None:
    authorized = await _authorize(payments_client)
    assert authorized.status_code == 201
    auth_id = authorized.json()["authorization_id"]

    captured = await payments_client.post(f"/payments/capture/{auth_id}")
    again = await payments_client.post(f"/payments/capture/{auth_id}")
    refunded = await payments_client.post(f"/payments/void/{auth_id}")
    refunded_again = await payments_client.post(f"/payments/void/{auth_id}")

    assert captured.json()["status"] == again.json()["status"] == "CAPTURED"
    assert refunded.json()["status"] == refunded_again.json()["status"] == "REFUNDED"
    history = (await payments_client.get(f"/payments/authorizations/{auth_id}")).json()
    assert [(o["operation"], o["outcome"]) for o in history["operations"]] == [
        ("authorize", "authorized"),
        ("capture", "captured"),
        ("capture", "replayed"),
        ("void", "refunded"),
        ("void", "replayed"),
    ]


async def test_void_then_capture_is_refused(payments_client: httpx.AsyncClient) -> None:
    auth_id = (await _authorize(payments_client)).json()["authorization_id"]
    assert (await payments_client.post(f"/payments/void/{auth_id}")).json()["status"] == "VOIDED"

    response = await payments_client.post(f"/payments/capture/{auth_id}")

    assert response.status_code == 409
    assert response.json()["code"] == "INVALID_STATE"


async def test_declined_card_is_402(payments_client: httpx.AsyncClient) -> None:
    response = await _authorize(payments_client, "pm_card_declined")

    assert response.status_code == 402
    assert response.json()["code"] == "PAYMENT_DECLINED"
    assert response.json()["authorization_id"].startswith("auth_")


async def test_capture_declined_is_final(payments_client: httpx.AsyncClient) -> None:
    auth_id = (await _authorize(payments_client, "pm_capture_declined")).json()["authorization_id"]

    response = await payments_client.post(f"/payments/capture/{auth_id}")

    assert response.status_code == 402
    assert response.json()["code"] == "CAPTURE_DECLINED"
    voided = await payments_client.post(f"/payments/void/{auth_id}")
    assert voided.json()["status"] == "VOIDED"


async def test_flaky_capture_fails_twice_then_succeeds(payments_client: httpx.AsyncClient) -> None:
    auth_id = (await _authorize(payments_client, "pm_capture_flaky")).json()["authorization_id"]

    answers = [await payments_client.post(f"/payments/capture/{auth_id}") for _ in range(3)]

    assert [a.status_code for a in answers] == [503, 503, 200]
    assert answers[0].json()["code"] == "PAYMENT_UNAVAILABLE"
    assert answers[0].headers["Retry-After"]
    assert answers[2].json()["capture_attempts"] == 3


async def test_same_idempotency_key_gives_the_same_authorization(
    payments_client: httpx.AsyncClient,
) -> None:
    body = {"payment_method": "pm_card_visa", "amount_cents": 500}
    headers = {"Idempotency-Key": "k-1"}
    first = await payments_client.post("/payments/authorize", json=body, headers=headers)
    second = await payments_client.post("/payments/authorize", json=body, headers=headers)
    other = await payments_client.post(
        "/payments/authorize", json={**body, "amount_cents": 501}, headers=headers
    )

    assert first.json()["authorization_id"] == second.json()["authorization_id"]
    assert other.status_code == 409
    assert other.json()["code"] == "IDEMPOTENCY_KEY_REUSED"


@pytest.mark.parametrize(
    "body",
    [
        {"payment_method": "pm_card_visa", "amount_cents": -1},
        {"payment_method": "pm_card_visa", "amount_cents": "10"},
        {"payment_method": "", "amount_cents": 10},
        {"payment_method": "pm_card_visa", "amount_cents": 10, "currency": "usd"},
    ],
)
async def test_bad_input_is_422_and_stores_nothing(
    payments_client: httpx.AsyncClient, db: asyncpg.Pool, body: dict[str, object]
) -> None:
    response = await payments_client.post("/payments/authorize", json=body)

    assert response.status_code == 422
    assert await db.fetchval("SELECT count(*) FROM payment_authorizations") == 0


async def test_unknown_authorization_is_404(payments_client: httpx.AsyncClient) -> None:
    for path in ("/payments/capture/auth_x", "/payments/void/auth_x"):
        response = await payments_client.post(path)
        assert response.status_code == 404
        assert response.json()["code"] == "NOT_FOUND"


async def test_failure_rate_and_latency_are_applied(db: asyncpg.Pool) -> None:
    import time

    failing = MockPsp(db, failure_rate=1.0)
    with pytest.raises(Exception, match="MOCK_FAILURE_RATE"):
        await failing.authorize("pm_card_visa", 100, "USD", None)
    assert await db.fetchval("SELECT count(*) FROM payment_authorizations") == 0

    slow = MockPsp(db, latency_ms=120)
    started = time.perf_counter()
    await slow.authorize("pm_card_visa", 100, "USD", None)
    assert time.perf_counter() - started >= 0.12
