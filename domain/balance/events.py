"""What follows a money change outside the script: cache, metrics, and the player's channel."""

from __future__ import annotations

import asyncio
import json
import logging
from datetime import UTC, datetime

import redis.asyncio as aioredis

from domain.balance.economy import count_movement
from domain.balance.read_cache import BalanceReadCache
from domain.balance.types import AccountBalance

log = logging.getLogger(__name__)


def balance_event(account: AccountBalance, source: str, at: datetime) -> dict[str, object]:
    """The payload published on `user:{account_id}` (the gateway's real-time contract)."""
    return {
        "kind": "balance.changed",
        "account_id": account.account_id,
        "balance": account.balance,
        "reserved": account.reserved,
        "available": account.available,
        "source": source,
        "at": at.isoformat(),
    }


class BalanceChanges:
    """Told of every applied change; never fails the change it is told about."""

    def __init__(self, redis: aioredis.Redis, cache: BalanceReadCache) -> None:
        self.redis = redis
        self.cache = cache
        self._publishing: set[asyncio.Task[None]] = set()

    def applied(self, account: AccountBalance, source: str, amount: int) -> None:
        """Remember the figures, count the movement and publish it, fire and forget."""
        self.cache.put(account)
        count_movement(source, amount)
        payload = json.dumps(balance_event(account, source, datetime.now(UTC)))
        task = asyncio.get_running_loop().create_task(
            self._publish(f"user:{account.account_id}", payload)
        )
        self._publishing.add(task)
        task.add_done_callback(self._publishing.discard)

    def seen(self, account: AccountBalance) -> None:
        """Remember figures read from Redis."""
        self.cache.put(account)

    async def _publish(self, channel: str, payload: str) -> None:
        try:
            await self.redis.publish(channel, payload)
        except Exception as exc:
            # The change is applied and durable; a missed notification only delays the UI.
            log.warning("could not publish to %s: %s", channel, exc)

    async def drain(self) -> None:
        """Wait for notifications still in flight (at shutdown)."""
        if self._publishing:
            await asyncio.gather(*self._publishing, return_exceptions=True)
