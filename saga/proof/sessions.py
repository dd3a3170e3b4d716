"""The proof's session load: players connecting to the gateway's WebSocket and leaving."""

from __future__ import annotations

import asyncio
import json
import random
from dataclasses import dataclass

import websockets

from infra.tokens import issue_token


@dataclass
class SessionLoad:
    """Opens one short WebSocket session every `interval` seconds, riding out a dead gateway."""

    gateway_ws_url: str
    secret: str
    rng: random.Random
    interval: float = 1.0
    opened: int = 0
    refused: int = 0

    async def run(self, stop: asyncio.Event) -> None:
        """Sessions until `stop`: connect, read the welcome, hold a moment, close."""
        while not stop.is_set():
            user = f"proof-viewer-{self.rng.randrange(20)}"
            token = issue_token(self.secret, user, ttl_seconds=3600)
            try:
                async with asyncio.timeout(10):
                    async with websockets.connect(f"{self.gateway_ws_url}?token={token}") as ws:
                        welcome = json.loads(await ws.recv())
                        if welcome.get("type") == "welcome":
                            self.opened += 1
                        await asyncio.sleep(self.rng.uniform(0.1, 0.5))
            except (OSError, TimeoutError, websockets.WebSocketException, ValueError):
                self.refused += 1
            await asyncio.sleep(self.interval)
