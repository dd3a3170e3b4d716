"""The order benchmark's players: a gateway WebSocket and an HTTP client under one token.

Built from the contracts only: orders are posted at the edge, and the outcome is learnt on
`user:{id}` over the socket, by polling `GET /orders/{id}`, or by the long-poll.
"""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from collections import Counter
from typing import Any

import aiohttp
import httpx
import websockets

from infra.settings import DEV_JWT_SECRET
from infra.tokens import issue_token

# A busy shared machine drops a connection now and then: the order is sent again under the
# same Idempotency-Key (the edge answers it once), and every drop is reported.
SEND_ATTEMPTS = 3


class OrderLost(Exception):
    """An order or floor run the bench could not see through; counted, not fatal."""


FINAL = ("CONFIRMED", "FAILED")


class Player:
    """One player: a gateway WebSocket and HTTP clients, all under the player's token.

    Orders go out through httpx; the polls of `GET /orders/{id}` through aiohttp, whose
    client costs about a third of httpx's CPU per request. The bench shares two cores with
    the platform, and a real poller runs on its own device: its client's cost is not the
    platform's.
    """

    def __init__(
        self, user: str, ws: Any, http: httpx.AsyncClient, poller: aiohttp.ClientSession
    ) -> None:
        self.user = user
        self.http = http
        self.poller = poller
        self._ws = ws
        self._final: dict[str, asyncio.Future[str]] = {}
        self.watched: list[str] = []  # orders seen through on the socket, oldest first
        self._task = asyncio.create_task(self._read())
        self._heartbeat = asyncio.create_task(self._beat())

    @classmethod
    async def connect(cls, user: str, env: dict[str, str]) -> Player:
        """Open the player's socket (subscribed to `user:{id}` from the start) and client."""
        token = issue_token(env.get("JWT_SECRET", DEV_JWT_SECRET), user, ttl_seconds=24 * 3600)
        gateway = f"ws://127.0.0.1:{env['GATEWAY_PORT']}/ws?token={token}"
        ws = await websockets.connect(gateway, max_queue=None)
        http = httpx.AsyncClient(
            base_url=f"http://127.0.0.1:{env['EDGE_PORT']}",
            timeout=60,
            headers={"authorization": f"Bearer {token}"},
        )
        poller = aiohttp.ClientSession(
            base_url=f"http://127.0.0.1:{env['EDGE_PORT']}",
            headers={"authorization": f"Bearer {token}"},
            timeout=aiohttp.ClientTimeout(total=60),
        )
        return cls(user, ws, http, poller)

    def final_status(self, order_ledger_id: str) -> asyncio.Future[str]:
        """The order's final status, as announced on the socket."""
        return self._final.setdefault(order_ledger_id, asyncio.get_running_loop().create_future())

    async def _read(self) -> None:
        try:
            async for raw in self._ws:
                frame = json.loads(raw)
                data = frame.get("data") or {}
                if data.get("kind") == "order.status" and data["status"] in FINAL:
                    future = self.final_status(data["order_ledger_id"])
                    if not future.done():
                        future.set_result(data["status"])
        finally:
            # A closed socket sees nothing more: every wait on it ends now, counted as lost.
            closed = OrderLost(f"the WebSocket of {self.user} closed ({self._ws.close_code})")
            for future in self._final.values():
                if not future.done():
                    future.set_exception(closed)

    async def _beat(self) -> None:
        """A `ping` frame every 15 s: the gateway closes a silent socket (4003) after 60 s."""
        while True:
            await asyncio.sleep(15)
            await self._ws.send(json.dumps({"type": "ping"}))

    async def place(self, dropped: Counter[str]) -> str:
        """POST one order; its ledger id. A dropped connection is resent under the same key."""
        body = {
            "customer_id": self.user,
            "items": [{"product_id": "bench", "quantity": 1}],
            "payment_method": "pm_card_visa",
            "currency": "USD",
        }
        key = str(uuid.uuid4())
        for attempt in range(1, SEND_ATTEMPTS + 1):
            try:
                response = await self.http.post(
                    "/orders", json=body, headers={"Idempotency-Key": key}
                )
                break
            except httpx.TransportError as exc:
                dropped[type(exc).__name__] += 1
                if attempt == SEND_ATTEMPTS:
                    raise
                await asyncio.sleep(0.2 * attempt)
        if response.status_code != 202:
            raise OrderLost(f"answered {response.status_code}: {response.text[:80]}")
        return str(response.json()["order_ledger_id"])

    async def on_socket(self, dropped: Counter[str]) -> None:
        """Submit, then wait for CONFIRMED on the WebSocket."""
        order = await self.place(dropped)
        self.watched.append(order)
        status = await asyncio.wait_for(self.final_status(order), 60)
        if status != "CONFIRMED":
            raise OrderLost(f"ended {status}")

    async def polling(self, dropped: Counter[str]) -> None:
        """Submit, then `GET /orders/{id}` every 50 ms until the status is final."""
        order = await self.place(dropped)
        deadline = time.perf_counter() + 60
        while time.perf_counter() < deadline:
            async with self.poller.get(f"/orders/{order}") as answer:
                status = (await answer.json())["status"]
            if status in FINAL:
                if status != "CONFIRMED":
                    raise OrderLost(f"ended {status}")
                return
            await asyncio.sleep(0.05)
        raise TimeoutError(f"order {order} not final after 60 s of polling")

    async def long_polling(self, dropped: Counter[str]) -> None:
        """Submit, then `GET /orders/{id}?wait=10&seen=STATUS` until the status is final."""
        order = await self.place(dropped)
        seen = "AUTHORIZED"
        for _ in range(30):
            answer = await self.http.get(f"/orders/{order}", params={"wait": 10, "seen": seen})
            seen = answer.json()["status"]
            if seen in FINAL:
                if seen != "CONFIRMED":
                    raise OrderLost(f"ended {seen}")
                return
        raise TimeoutError(f"order {order} not final after 30 long polls")

    async def close(self) -> None:
        """Close the socket and the client."""
        self._task.cancel()
        self._heartbeat.cancel()
        await self._ws.close()
        await self.http.aclose()
        await self.poller.close()
