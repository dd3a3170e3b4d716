"""Bots that sit at poker tables and play through the public HTTP API, like any player.

Each bot holds its own user token, is funded by a deposit in its wallet, buys in with an
Idempotency-Key and acts when the table says it is its turn, choosing among the legal
actions the table offers. They give a newcomer live tables to watch and give the proof and
the benchmarks load.
"""

from __future__ import annotations

import asyncio
import logging
import random
import uuid
from dataclasses import dataclass, field
from typing import Any

import httpx

from infra.tokens import TokenKind, issue_token

log = logging.getLogger(__name__)


@dataclass
class BotStats:
    """What the bots did, for the command's last line."""

    tables: list[str] = field(default_factory=list)
    seated: int = 0
    actions: int = 0
    refused: int = 0
    unreachable: int = 0
    hands_seen: set[str] = field(default_factory=set)

    @property
    def hands_ended(self) -> int:
        """Hands known to be over: a table that moved on to a later hand ended the earlier one."""
        tables = {hand.rpartition("-h")[0] for hand in self.hands_seen}
        return len(self.hands_seen) - len(tables)


def choose(legal: dict[str, Any], rng: random.Random) -> tuple[str, int | None]:
    """A legal action with a sensible size: mostly check or call, sometimes raise or fold."""
    actions: list[str] = legal.get("actions", [])
    roll = rng.random()
    low, high = legal.get("min_raise_to"), legal.get("max_raise_to")
    if roll < 0.15 and low is not None and ("raise" in actions or "bet" in actions):
        name = "raise" if "raise" in actions else "bet"
        size = min(int(high if high is not None else low), int(low) * (2 + rng.randint(0, 2)) // 2)
        return name, size
    if "check" in actions:
        return "check", None
    if "call" in actions and roll < 0.85:
        return "call", None
    if "fold" in actions:
        return "fold", None
    return actions[0], None


class Bot:
    """One player: a token, a wallet, a seat, and a loop that acts on its turn."""

    def __init__(self, http: httpx.AsyncClient, secret: str, user_id: str, seed: int) -> None:
        self.user_id = user_id
        self._http = http
        token = issue_token(secret, user_id, kind=TokenKind.USER, ttl_seconds=24 * 3600)
        self._headers = {"Authorization": f"Bearer {token}"}
        self._rng = random.Random(seed)

    async def sit(self, table_id: str, buy_in: int) -> bool:
        """Buy in; False when the table refused (full, already seated, no funds)."""
        response = await self._http.post(
            f"/tables/{table_id}/seats",
            json={"user_id": self.user_id, "buy_in": buy_in},
            headers={**self._headers, "Idempotency-Key": f"bot-sit-{uuid.uuid4().hex}"},
        )
        if response.status_code != 201:
            log.warning("%s could not sit at %s: %s", self.user_id, table_id, response.text)
        return response.status_code == 201

    async def play(self, table_id: str, stats: BotStats, stop: asyncio.Event) -> None:
        """Act whenever it is this bot's turn, until `stop`; a front that is down is waited for."""
        while not stop.is_set():
            try:
                acted = await self._turn(table_id, stats)
            except (httpx.HTTPError, ValueError, KeyError, TypeError):
                stats.unreachable += 1
                acted = False
                await asyncio.sleep(0.5)
            if not acted:
                await asyncio.sleep(0.2)

    async def _turn(self, table_id: str, stats: BotStats) -> bool:
        response = await self._http.get(f"/tables/{table_id}", headers=self._headers)
        table = response.json()
        hand = table.get("hand") or {}
        if hand.get("hand_id"):
            stats.hands_seen.add(str(hand["hand_id"]))
        legal = hand.get("legal_actions")
        if hand.get("to_act") != self.user_id or not legal:
            return False
        await asyncio.sleep(self._rng.uniform(0.05, 0.3))  # a bot thinks, briefly
        action, amount = choose(legal, self._rng)
        body: dict[str, Any] = {"user_id": self.user_id, "action": action}
        if amount is not None:
            body["amount"] = amount
        answer = await self._http.post(
            f"/tables/{table_id}/actions", json=body, headers=self._headers
        )
        if answer.status_code == 200:
            stats.actions += 1
        else:
            stats.refused += 1
        return True

    async def close(self) -> None:
        """Close the bot's HTTP client."""
        await self._http.aclose()


async def fund(balance_url: str, service_token: str, user_id: str, amount: int) -> None:
    """Deposit chips in a bot's wallet (idempotent per user and amount)."""
    async with httpx.AsyncClient(base_url=balance_url, timeout=10) as http:
        response = await http.post(
            f"/api/accounts/{user_id}/deposit",
            json={"amount": amount},
            headers={
                "Authorization": f"Bearer {service_token}",
                "Idempotency-Key": f"bot-fund-{user_id}-{amount}",
            },
        )
        response.raise_for_status()


async def run_bots(
    game_url: str,
    balance_url: str,
    secret: str,
    *,
    tables: int,
    players: int,
    seconds: float | None,
    prefix: str = "bot",
) -> BotStats:
    """Open `tables` tables, seat `players` bots at each, and play until `seconds` pass."""
    stats = BotStats()
    service = issue_token(secret, "poker-bots", kind=TokenKind.SERVICE, ttl_seconds=24 * 3600)
    stop = asyncio.Event()
    async with httpx.AsyncClient(base_url=game_url, timeout=15) as http:
        loops = []
        run = uuid.uuid4().hex[:4]
        for t in range(tables):
            opened = await http.post(
                "/tables",
                json={
                    "name": f"{prefix} table {t + 1}",
                    "small_blind": 5,
                    "big_blind": 10,
                    "min_buy_in": 200,
                    "max_buy_in": 2_000,
                    "max_seats": max(players, 2),
                    "action_timeout_seconds": 15,
                },
                headers={"Authorization": f"Bearer {service}"},
            )
            opened.raise_for_status()
            table_id = str(opened.json()["table_id"])
            stats.tables.append(table_id)
            for p in range(players):
                user = f"{prefix}-{run}-{t + 1}-{p + 1}"
                await fund(balance_url, service, user, 10_000)
                bot = Bot(http, secret, user, seed=hash((run, t, p)) & 0xFFFF)
                if await bot.sit(table_id, 1_000):
                    stats.seated += 1
                    loops.append(asyncio.create_task(bot.play(table_id, stats, stop)))
        try:
            if seconds is None:
                await asyncio.Event().wait()
            else:
                await asyncio.sleep(seconds)
        finally:
            stop.set()
            await asyncio.gather(*loops, return_exceptions=True)
    return stats
