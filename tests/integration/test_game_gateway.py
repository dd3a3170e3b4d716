"""Two players play a hand through the gateway's WebSocket, against the real game service.

Everything is real: the balance service over gRPC on the test Valkey, the game front, the
table workflow on the session's Temporal server, the gateway with its Redis fan-out.
"""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import httpx

from domain.balance.slots import supply_report
from domain.game.money import seat_account
from tests.eventually import assert_eventually
from tests.integration.game_platform import Platform, game_platform  # noqa: F401  (fixture)
from tests.integration.gateway_support import (
    Client as WsClient,
)
from tests.integration.gateway_support import (
    service_token,
    user_token,
    ws_client,
)


def _as(user: str) -> dict[str, str]:
    return {"authorization": f"Bearer {user_token(user)}"}


async def _open_and_sit(http: httpx.AsyncClient) -> str:
    opened = await http.post(
        "/api/game/tables",
        json={
            "name": "gateway hand",
            "small_blind": 5,
            "big_blind": 10,
            "min_buy_in": 100,
            "max_buy_in": 1_000,
            "max_seats": 2,
            "action_timeout_seconds": 60,
        },
        headers={"authorization": f"Bearer {service_token('lobby')}"},
    )
    assert opened.status_code == 201, opened.text
    table_id = str(opened.json()["table_id"])
    for user in ("ann", "bob"):
        seated = await http.post(
            f"/api/game/tables/{table_id}/seats",
            json={"user_id": user, "buy_in": 500},
            headers={**_as(user), "Idempotency-Key": f"sit-{uuid.uuid4().hex}"},
        )
        assert seated.status_code == 201, seated.text
    return table_id


async def _request(client: WsClient, frame: dict[str, Any], seen: list[dict[str, Any]]) -> Any:
    """Send a frame and wait for its reply, keeping every event that arrives meanwhile."""
    ref = uuid.uuid4().hex[:12]
    await client.send({**frame, "id": ref})
    while True:
        reply = await client.recv(timeout=20)
        if reply.get("ref") == ref:
            return reply
        if reply.get("type") == "event":
            seen.append({"channel": reply["channel"], **reply["data"]})


async def _events_until(client: WsClient, kind: str, seen: list[dict[str, Any]]) -> None:
    while not any(e.get("kind") == kind for e in seen):
        frame = await client.recv(timeout=20)
        if frame.get("type") == "event":
            seen.append({"channel": frame["channel"], **frame["data"]})


async def test_two_players_play_a_hand_over_the_websocket(platform: Platform) -> None:
    async with httpx.AsyncClient(base_url=platform.gateway.url, timeout=20) as http:
        table_id = await _open_and_sit(http)
        async with (
            ws_client(platform.gateway, "ann") as ann,
            ws_client(platform.gateway, "bob") as bob,
        ):
            players = {"ann": ann, "bob": bob}
            seen: dict[str, list[dict[str, Any]]] = {"ann": [], "bob": []}
            for client in players.values():
                reply = await client.request({"type": "subscribe", "channel": f"table:{table_id}"})
                assert reply["type"] == "subscribed", reply
            hand_id = None
            for _ in range(200):
                table = (await http.get(f"/api/game/tables/{table_id}", headers=_as("ann"))).json()
                hand = table["hand"]
                if hand_id is not None and (hand is None or hand["hand_id"] != hand_id):
                    break
                if hand is None:
                    await asyncio.sleep(0.1)  # the table deals within 5 s by itself
                    continue
                hand_id = hand["hand_id"]
                actor = hand["to_act"]
                mine = (await http.get(f"/api/game/tables/{table_id}", headers=_as(actor))).json()
                legal = mine["hand"]["legal_actions"]["actions"]
                reply = await _request(
                    players[actor],
                    {
                        "type": "table.action",
                        "table_id": table_id,
                        "action": "check" if "check" in legal else "call",
                    },
                    seen[actor],
                )
                assert reply["type"] == "table.action.result", reply
                assert reply["result"]["table_id"] == table_id
            assert hand_id is not None
            for user, client in players.items():
                await _events_until(client, "hand.ended", seen[user])
    for user, events in seen.items():
        cards = [e for e in events if e["kind"] == "hole.cards"]
        # Each player got its own two cards, on its own channel only.
        assert len(cards) == 1
        assert len(cards[0]["cards"]) == 2
        assert cards[0]["channel"] == f"user:{user}"
        assert all(e["channel"] == f"table:{table_id}" for e in events if e not in cards)

    async def settled() -> None:
        ended = next(e for e in seen["ann"] if e["kind"] == "hand.ended")
        for user in ("ann", "bob"):
            seat = (await platform.book.accounts.get_balance(seat_account(table_id, user))).balance
            assert seat == ended["stacks"][user]
        supply = (await supply_report(platform.redis)).counted
        assert supply == 4_000  # wallets + seats + pots + house

    await assert_eventually(settled)


async def test_a_muted_player_cannot_chat_at_the_table(platform: Platform) -> None:
    async with httpx.AsyncClient(base_url=platform.gateway.url, timeout=20) as http:
        table_id = await _open_and_sit(http)
        channel = f"table:{table_id}"
        # A player is no moderator of a table someone else opened.
        refused = await http.put(
            "/api/game/players/bob/mute",
            json={"channel": channel, "minutes": 5},
            headers=_as("ann"),
        )
        assert refused.status_code == 403, refused.text
        assert refused.json()["code"] == "FORBIDDEN"
        muted = await http.put(
            "/api/game/players/bob/mute",
            json={"channel": channel, "minutes": 5},
            headers={"authorization": f"Bearer {service_token('moderation')}"},
        )
        assert muted.status_code == 200, muted.text
        async with (
            ws_client(platform.gateway, "bob") as bob,
            ws_client(platform.gateway, "ann") as ann,
        ):
            for client in (bob, ann):
                await client.request({"type": "subscribe", "channel": channel})
            said = await bob.request({"type": "chat.send", "channel": channel, "text": "hi"})
            assert said["type"] == "error"
            assert said["code"] == "MUTED"
            # Only bob is muted: ann still chats at the table.
            assert (await ann.request({"type": "chat.send", "channel": channel, "text": "hi"}))[
                "type"
            ] != "error"
