"""What follows a money change outside its script: the read cache and the economy metrics.

The player's `balance.changed` event on `user:{account_id}` is published by the script itself
(`publish_change` in lua/lib.lua), so it goes out exactly when the change is applied.
"""

from __future__ import annotations

from domain.balance.economy import count_movement
from domain.balance.read_cache import BalanceReadCache
from domain.balance.types import AccountBalance


class BalanceChanges:
    """Told of every applied change; never fails the change it is told about."""

    def __init__(self, cache: BalanceReadCache) -> None:
        self.cache = cache

    def applied(self, account: AccountBalance, source: str, amount: int) -> None:
        """Remember the figures and count the movement."""
        self.cache.put(account)
        count_movement(source, amount)

    def seen(self, account: AccountBalance) -> None:
        """Remember figures read from Redis."""
        self.cache.put(account)
