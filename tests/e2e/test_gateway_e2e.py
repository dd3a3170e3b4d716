"""A player on a real `saga up`: token from the CLI, WebSocket, chat, an order watched live."""

from __future__ import annotations

import asyncio
import json
import uuid
from typing import Any

import httpx
import pytest
from websockets.asyncio.client import connect

from tests.e2e.conftest import PlatformProcess

pytestmark = pytest.mark.e2e


async def test_a_player_chats_and_watches_an_order_move_through_the_saga(
    platform: PlatformProcess,
) -> None:
    player = f"player-{uuid.uuid4().hex[:8]}"
    issued = platform.saga("token", "--user", player)
    assert issued.returncode == 0, issued.stderr
    token = issued.stdout.strip()
    gateway = platform.url("gateway_port")
    ws_url = gateway.replace("http://", "ws://") + f"/ws?token={token}"
    product_id = f"gw-{uuid.uuid4().hex[:8]}"
    inventory = platform.url("inventory_port")
    async with httpx.AsyncClient(timeout=15) as http:
        created = await http.post(
            f"{inventory}/inventory/products",
            json={"product_id": product_id, "name": "GW", "price_cents": 500, "initial_stock": 3},
            headers=platform.service_auth(),
        )
        assert created.status_code == 201, created.text

        async with connect(ws_url) as ws:

            async def next_frame(kind: str) -> dict[str, Any]:
                while True:
                    frame: dict[str, Any] = json.loads(await asyncio.wait_for(ws.recv(), 30))
                    if frame["type"] == kind:
                        return frame

            welcome = await next_frame("welcome")
            assert f"user:{player}" in welcome["channels"]
            await ws.send(json.dumps({"type": "subscribe", "channel": "lobby"}))
            await next_frame("subscribed")
            await ws.send(json.dumps({"type": "chat.send", "channel": "lobby", "text": "gl hf"}))
            chat = await next_frame("event")
            assert chat["data"]["kind"] == "chat.message"
            assert chat["data"]["text"] == "gl hf"

            order = await http.post(
                f"{gateway}/api/edge/orders",
                json={
                    "customer_id": player,
                    "items": [{"product_id": product_id, "quantity": 1}],
                    "payment_method": "pm_card_visa",
                    "currency": "USD",
                },
                headers={"authorization": f"Bearer {token}", "idempotency-key": player},
            )
            assert order.status_code == 202, order.text
            ledger_id = order.json()["order_ledger_id"]
            seen: list[str] = []
            while "CONFIRMED" not in seen:
                event = await next_frame("event")
                if event["channel"] == f"user:{player}" and event["data"]["kind"] == "order.status":
                    assert event["data"]["order_ledger_id"] == ledger_id
                    seen.append(event["data"]["status"])
            assert seen[-1] == "CONFIRMED"
            assert "PAYMENT_CAPTURED" in seen or "INVENTORY_RESERVED" in seen, seen

        ready = await http.get(f"{gateway}/ready")
        assert ready.json()["checks"]["redis"] is True
