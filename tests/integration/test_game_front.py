"""The game front refuses bad input with a stable code, and a refusal moves no chip."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import httpx

from domain.game.money import seat_account
from tests.eventually import assert_eventually
from tests.integration.game_platform import Platform, game_platform  # noqa: F401  (fixture)
from tests.integration.gateway_support import service_token, user_token

TABLE = {
    "name": "limits",
    "small_blind": 5,
    "big_blind": 10,
    "min_buy_in": 100,
    "max_buy_in": 1_000,
    "max_seats": 2,
    "action_timeout_seconds": 60,
}


def _as(user: str) -> dict[str, str]:
    return {"authorization": f"Bearer {user_token(user)}"}


def _key() -> dict[str, str]:
    return {"Idempotency-Key": f"k-{uuid.uuid4().hex}"}


async def _wallets(platform: Platform) -> dict[str, tuple[int, int]]:
    found = {}
    for user in ("ann", "bob"):
        account = await platform.book.accounts.get_balance(user)
        found[user] = (account.balance, account.reserved)
    return found


def _problem(answer: httpx.Response, status: int, code: str) -> dict[str, Any]:
    assert answer.status_code == status, answer.text
    assert answer.headers["content-type"] == "application/problem+json"
    body: dict[str, Any] = answer.json()
    assert body["code"] == code, body
    return body


async def test_bad_seats_are_refused_and_move_nothing(platform: Platform) -> None:
    async with httpx.AsyncClient(base_url=platform.game.url, timeout=20) as http:
        table = (await http.post("/tables", json=TABLE, headers=_as("ann"))).json()
        seats = f"/tables/{table['table_id']}/seats"
        before = await _wallets(platform)
        stranger = await http.post(
            seats, json={"user_id": "ann", "buy_in": 500}, headers={**_as("bob"), **_key()}
        )
        _problem(stranger, 403, "FORBIDDEN")
        no_key = await http.post(seats, json={"user_id": "ann", "buy_in": 500}, headers=_as("ann"))
        _problem(no_key, 400, "IDEMPOTENCY_KEY_REQUIRED")
        outside = await http.post(
            seats, json={"user_id": "ann", "buy_in": 5_000}, headers={**_as("ann"), **_key()}
        )
        _problem(outside, 422, "VALIDATION_FAILED")
        broke = await http.post(
            f"/tables/{table['table_id']}/seats",
            json={"user_id": "carl", "buy_in": 500},
            headers={**_as("carl"), **_key()},
        )
        _problem(broke, 402, "INSUFFICIENT_FUNDS")
        unknown = await http.post(
            "/tables/t0000000000/seats",
            json={"user_id": "ann", "buy_in": 500},
            headers={**_as("ann"), **_key()},
        )
        _problem(unknown, 404, "TABLE_NOT_FOUND")
        odd = await http.get("/tables/..%2F..%2Fetc", headers=_as("ann"))
        assert odd.status_code == 404, odd.text
        bad_body = await http.post(
            seats, json={"user_id": "a b", "buy_in": -1}, headers={**_as("ann"), **_key()}
        )
        _problem(bad_body, 422, "VALIDATION_FAILED")
        assert await _wallets(platform) == before
        view = (await http.get(f"/tables/{table['table_id']}", headers=_as("ann"))).json()
        assert view["seats"] == []


async def test_a_full_table_and_wrong_turns_are_refused(platform: Platform) -> None:
    async with httpx.AsyncClient(base_url=platform.game.url, timeout=20) as http:
        table_id = (await http.post("/tables", json=TABLE, headers=_as("ann"))).json()["table_id"]
        for user in ("ann", "bob"):
            sat = await http.post(
                f"/tables/{table_id}/seats",
                json={"user_id": user, "buy_in": 500},
                headers={**_as(user), **_key()},
            )
            assert sat.status_code == 201, sat.text
        again = await http.post(
            f"/tables/{table_id}/seats",
            json={"user_id": "ann", "buy_in": 500},
            headers={**_as("ann"), **_key()},
        )
        _problem(again, 409, "ALREADY_SEATED")
        full = await http.post(
            f"/tables/{table_id}/seats",
            json={"user_id": "carl", "buy_in": 500},
            headers={"authorization": f"Bearer {service_token()}", **_key()},
        )
        _problem(full, 409, "TABLE_FULL")
        hand = None
        for _ in range(100):
            hand = (await http.get(f"/tables/{table_id}", headers=_as("ann"))).json()["hand"]
            if hand is not None:
                break
            await asyncio.sleep(0.1)
        assert hand is not None
        actor = hand["to_act"]
        waiting = "bob" if actor == "ann" else "ann"

        async def settled() -> dict[str, int]:
            # The blinds reach the pot just after the hand is dealt (the table's effects).
            view = (await http.get(f"/tables/{table_id}", headers=_as("ann"))).json()
            stacks = {s["user_id"]: s["stack"] for s in view["seats"]}
            seats = {
                u: (await platform.book.accounts.get_balance(seat_account(table_id, u))).balance
                for u in ("ann", "bob")
            }
            assert seats == stacks
            return seats

        seats_before = await assert_eventually(settled)
        turn = await http.post(
            f"/tables/{table_id}/actions",
            json={"user_id": waiting, "action": "call"},
            headers=_as(waiting),
        )
        _problem(turn, 409, "NOT_YOUR_TURN")
        illegal = await http.post(
            f"/tables/{table_id}/actions",
            json={"user_id": actor, "action": "raise", "amount": 11},
            headers=_as(actor),
        )
        body = _problem(illegal, 409, "ILLEGAL_ACTION")
        assert "raise" in body["legal_actions"]
        assert body["min_raise_to"] == 20
        spoofed = await http.post(
            f"/tables/{table_id}/actions",
            json={"user_id": actor, "action": "fold"},
            headers=_as(waiting),
        )
        _problem(spoofed, 403, "FORBIDDEN")
        nonsense = await http.post(
            f"/tables/{table_id}/actions",
            json={"user_id": actor, "action": "steal"},
            headers=_as(actor),
        )
        _problem(nonsense, 422, "VALIDATION_FAILED")
        after = (await http.get(f"/tables/{table_id}", headers=_as("ann"))).json()["hand"]
        assert (after["to_act"], after["pot"]) == (actor, hand["pot"])
        for user, chips in seats_before.items():
            seat = await platform.book.accounts.get_balance(seat_account(table_id, user))
            assert seat.balance == chips
