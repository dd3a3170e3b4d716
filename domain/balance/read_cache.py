"""Last known balances, served (marked stale) while Redis is unreachable."""

from __future__ import annotations

import dataclasses
from collections import OrderedDict

from domain.balance.types import AccountBalance


class BalanceReadCache:
    """A bounded LRU of the newest figures this process has seen for each account."""

    def __init__(self, max_entries: int = 100_000) -> None:
        self.max_entries = max_entries
        self._entries: OrderedDict[str, AccountBalance] = OrderedDict()

    def put(self, account: AccountBalance) -> None:
        """Remember `account` unless a newer version is already known."""
        known = self._entries.get(account.account_id)
        if known is not None and known.version > account.version:
            return
        self._entries[account.account_id] = account
        self._entries.move_to_end(account.account_id)
        while len(self._entries) > self.max_entries:
            self._entries.popitem(last=False)

    def stale(self, account_id: str) -> AccountBalance | None:
        """The remembered figures marked stale, or None."""
        known = self._entries.get(account_id)
        return None if known is None else dataclasses.replace(known, stale=True)

    def __len__(self) -> int:
        return len(self._entries)
