"""The HTTP front: every route, auth, idempotency headers and problem details."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
import redis.asyncio as aioredis

from apis.balance.rest.app import create_app
from tests.balance_support import SECRET, make_book, service_token, user_token

SERVICE = {"Authorization": f"Bearer {service_token()}"}


@pytest.fixture
async def http(redis: aioredis.Redis) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=create_app(make_book(redis), SECRET))
    async with httpx.AsyncClient(transport=transport, base_url="http://balance") as client:
        yield client


def keyed(key: str, headers: dict[str, str] = SERVICE) -> dict[str, str]:
    return {**headers, "Idempotency-Key": key}


async def test_health_metrics_and_openapi_need_no_token(http: httpx.AsyncClient) -> None:
    assert (await http.get("/api/health")).json() == {"status": "ok", "redis": True}
    spec = (await http.get("/openapi.json")).json()
    assert "/api/accounts/{account_id}/deposit" in spec["paths"]
    await http.get("/api/accounts/a/balance", headers=SERVICE)
    assert "saga_balance_http_request_seconds" in (await http.get("/metrics")).text


async def test_deposit_withdraw_balance_and_transactions(http: httpx.AsyncClient) -> None:
    deposit = await http.post(
        "/api/accounts/amy/deposit", json={"amount": 500}, headers=keyed("d1")
    )
    assert deposit.status_code == 200
    assert deposit.json()["balance"] == 500
    assert "Idempotency-Replayed" not in deposit.headers
    replay = await http.post("/api/accounts/amy/deposit", json={"amount": 500}, headers=keyed("d1"))
    assert replay.headers["Idempotency-Replayed"] == "true"
    assert replay.json()["transaction"] == deposit.json()["transaction"]
    withdraw = await http.post(
        "/api/accounts/amy/withdraw", json={"amount": 200}, headers=keyed("w1")
    )
    assert (withdraw.json()["balance"], withdraw.json()["available"]) == (300, 300)
    balance = await http.get("/api/accounts/amy/balance", headers=SERVICE)
    assert balance.json() == {
        "account_id": "amy",
        "balance": 300,
        "reserved": 0,
        "available": 300,
        "version": 2,
        "stale": False,
    }
    history = await http.get("/api/accounts/amy/transactions?limit=10", headers=SERVICE)
    assert [t["amount"] for t in history.json()["transactions"]] == [-200, 500]


@pytest.mark.parametrize(
    ("path", "body", "headers", "status", "code"),
    [
        ("/api/accounts/amy/deposit", {"amount": 5}, SERVICE, 400, "IDEMPOTENCY_KEY_REQUIRED"),
        ("/api/accounts/amy/deposit", {"amount": 1.5}, keyed("a"), 422, "VALIDATION_FAILED"),
        ("/api/accounts/amy/deposit", {"amount": "5"}, keyed("b"), 422, "VALIDATION_FAILED"),
        ("/api/accounts/amy/deposit", {"amount": 0}, keyed("c"), 422, "VALIDATION_FAILED"),
        ("/api/accounts/amy/deposit", {"amount": -5}, keyed("d"), 422, "VALIDATION_FAILED"),
        ("/api/accounts/amy/deposit", {"amount": 10**13}, keyed("e"), 422, "VALIDATION_FAILED"),
        ("/api/accounts/a*b/deposit", {"amount": 5}, keyed("f"), 422, "VALIDATION_FAILED"),
        ("/api/accounts/amy/deposit", {"amount": 5}, keyed("a b"), 422, "VALIDATION_FAILED"),
        ("/api/accounts/amy/deposit", {"amount": 5, "x": 1}, keyed("g"), 422, "VALIDATION_FAILED"),
        ("/api/accounts/amy/withdraw", {"amount": 5}, keyed("h"), 404, "NOT_FOUND"),
        (
            "/api/accounts/amy/deposit",
            {"amount": 5},
            {"Idempotency-Key": "i"},
            401,
            "UNAUTHENTICATED",
        ),
        (
            "/api/accounts/amy/deposit",
            {"amount": 5},
            {"Authorization": "Bearer junk", "Idempotency-Key": "j"},
            401,
            "UNAUTHENTICATED",
        ),
        (
            "/api/accounts/amy/deposit",
            {"amount": 5},
            keyed("k", {"Authorization": f"Bearer {user_token('bob')}"}),
            403,
            "FORBIDDEN",
        ),
    ],
)
async def test_bad_requests_are_problems_and_change_nothing(
    http: httpx.AsyncClient,
    path: str,
    body: dict[str, object],
    headers: dict[str, str],
    status: int,
    code: str,
) -> None:
    answer = await http.post(path, json=body, headers=headers)
    assert answer.status_code == status, answer.text
    assert answer.headers["content-type"] == "application/problem+json"
    assert answer.json()["code"] == code
    assert (await http.get("/api/accounts/amy/balance", headers=SERVICE)).status_code == 404


async def test_business_failures_and_reused_keys(http: httpx.AsyncClient) -> None:
    await http.post("/api/accounts/amy/deposit", json={"amount": 50}, headers=keyed("d1"))
    short = await http.post("/api/accounts/amy/withdraw", json={"amount": 51}, headers=keyed("w1"))
    assert (short.status_code, short.json()["code"]) == (422, "INSUFFICIENT_FUNDS")
    reused = await http.post("/api/accounts/amy/deposit", json={"amount": 9}, headers=keyed("d1"))
    assert (reused.status_code, reused.json()["code"]) == (409, "IDEMPOTENCY_KEY_REUSED")
    stale = await http.post(
        "/api/accounts/amy/deposit", json={"amount": 9, "expected_version": 0}, headers=keyed("d2")
    )
    assert (stale.status_code, stale.json()["code"]) == (409, "VERSION_CONFLICT")
    missing = await http.get("/api/accounts/nobody/transactions", headers=SERVICE)
    assert missing.status_code == 404


async def test_a_player_acts_on_their_own_account(http: httpx.AsyncClient) -> None:
    mine = {"Authorization": f"Bearer {user_token('amy')}"}
    created = await http.put("/api/accounts/amy", headers=mine)
    assert created.status_code == 201
    assert (await http.put("/api/accounts/amy", headers=mine)).status_code == 200
    deposit = await http.post(
        "/api/accounts/amy/deposit", json={"amount": 5}, headers=keyed("x", mine)
    )
    assert deposit.status_code == 200
    other = await http.get("/api/accounts/bob/balance", headers=mine)
    assert other.status_code == 403


async def test_reservations_ledger_and_economy_routes(http: httpx.AsyncClient) -> None:
    await http.post("/api/accounts/amy/deposit", json={"amount": 100}, headers=keyed("d"))
    held = await http.post(
        "/api/accounts/amy/reservations", json={"amount": 60, "ttl_seconds": 30}, headers=keyed("r")
    )
    assert held.json()["available"] == 40
    rid = held.json()["reservation"]["reservation_id"]
    active = await http.get("/api/accounts/amy/reservations", headers=SERVICE)
    assert [r["reservation_id"] for r in active.json()["reservations"]] == [rid]
    other_player = {"Authorization": f"Bearer {user_token('bob')}"}
    refused = await http.post(
        f"/api/reservations/{rid}/commit", json={}, headers=keyed("c0", other_player)
    )
    assert refused.status_code == 403
    done = await http.post(
        f"/api/reservations/{rid}/commit", json={"amount": 50}, headers=keyed("c")
    )
    assert (done.json()["balance"], done.json()["reserved"]) == (50, 0)
    again = await http.post(f"/api/reservations/{rid}/release", headers=keyed("rel"))
    assert (again.status_code, again.json()["code"]) == (409, "RESERVATION_ALREADY_RESOLVED")
    ledger = await http.get("/api/accounts/amy/ledger?from_seq=1&limit=10", headers=SERVICE)
    assert [e["seq"] for e in ledger.json()["entries"]] == [1, 2, 3]
    past_the_end = await http.get(
        "/api/accounts/amy/ledger?from_seq=9007199254740992", headers=SERVICE
    )
    assert (past_the_end.status_code, past_the_end.json()["entries"]) == (200, [])
    # Found by the OpenAPI fuzz: a from_seq near 2**63 overflowed Redis' list index (a 500).
    overflowing = await http.get(
        "/api/accounts/amy/ledger?from_seq=9223372036854775710", headers=SERVICE
    )
    assert (overflowing.status_code, overflowing.json()["code"]) == (422, "VALIDATION_FAILED")
    verified = await http.get("/api/accounts/amy/ledger/verify", headers=SERVICE)
    assert verified.json()["valid"] is True
    economy = await http.get("/api/economy", headers=SERVICE)
    assert economy.json()["chip_supply"] == 50
