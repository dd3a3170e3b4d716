"""The proof's poker load: bots at tables through the game front, while parts are killed."""

from __future__ import annotations

import asyncio
import random
from dataclasses import dataclass, field

import httpx

from infra.tokens import TokenKind, issue_token
from saga.bots import Bot, BotStats, fund

BUY_IN = 1_000
WALLET = 5_000


@dataclass
class PokerLoad:
    """Opens `tables` tables with `players` bots each, and keeps them playing."""

    game_url: str
    balance_url: str
    secret: str
    rng: random.Random
    tables: int = 2
    players: int = 3
    stats: BotStats = field(default_factory=BotStats)
    bots: dict[str, list[Bot]] = field(default_factory=dict)

    @property
    def table_ids(self) -> list[str]:
        """The tables the load opened."""
        return list(self.stats.tables)

    async def seed(self, http: httpx.AsyncClient) -> None:
        """Open the tables and seat the bots (before any fault)."""
        service = issue_token(
            self.secret, "proof-poker", kind=TokenKind.SERVICE, ttl_seconds=86_400
        )
        for t in range(self.tables):
            opened = await http.post(
                f"{self.game_url}/tables",
                json={
                    "name": f"proof {t + 1}",
                    "small_blind": 5,
                    "big_blind": 10,
                    "min_buy_in": 200,
                    "max_buy_in": 2_000,
                    "max_seats": self.players,
                    "action_timeout_seconds": 5,
                },
                headers={"Authorization": f"Bearer {service}"},
                timeout=30,
            )
            opened.raise_for_status()
            table_id = str(opened.json()["table_id"])
            self.stats.tables.append(table_id)
            self.bots[table_id] = []
            for p in range(self.players):
                user = f"proof-{table_id}-{p}"
                await fund(self.balance_url, service, user, WALLET)
                bot = Bot(
                    httpx.AsyncClient(base_url=self.game_url, timeout=10),
                    self.secret,
                    user,
                    seed=self.rng.randrange(1 << 30),
                )
                if not await bot.sit(table_id, BUY_IN):
                    raise RuntimeError(f"{user} could not sit at {table_id}")
                self.stats.seated += 1
                self.bots[table_id].append(bot)

    async def run(self, stop: asyncio.Event) -> None:
        """Every bot plays until `stop`, riding out a killed game front or gateway."""
        await asyncio.gather(
            *(
                bot.play(table_id, self.stats, stop)
                for table_id, bots in self.bots.items()
                for bot in bots
            )
        )

    async def close(self) -> None:
        """Close the bots' connections."""
        for bots in self.bots.values():
            for bot in bots:
                await bot.close()
