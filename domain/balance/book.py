"""The balance service's composition root: every service of the context over one Redis."""

from __future__ import annotations

from dataclasses import dataclass

from domain.balance.accounts import AccountService
from domain.balance.economy import EconomySampler
from domain.balance.events import BalanceChanges
from domain.balance.expiry import ReservationExpiry
from domain.balance.holders import ReservationHolders
from domain.balance.ledger_service import LedgerService
from domain.balance.pot_service import PotService
from domain.balance.read_cache import BalanceReadCache
from domain.balance.reservations import ReservationService
from domain.balance.scripts import BalanceScripts, Clock, server_clock
from infra.redis import RedisClient


@dataclass(frozen=True)
class BalanceBook:
    """Accounts, reservations, pots, ledgers and economy metrics sharing one Redis client."""

    redis: RedisClient
    scripts: BalanceScripts
    changes: BalanceChanges
    accounts: AccountService
    reservations: ReservationService
    expiry: ReservationExpiry
    pots: PotService
    ledger: LedgerService
    economy: EconomySampler

    @classmethod
    def build(
        cls,
        redis: RedisClient,
        *,
        house_account_id: str = "house",
        clock: Clock = server_clock,
        cache: BalanceReadCache | None = None,
    ) -> BalanceBook:
        """Wire the services; nothing connects until the first call."""
        scripts = BalanceScripts(redis, clock)
        changes = BalanceChanges(cache or BalanceReadCache())
        holders = ReservationHolders(redis)
        return cls(
            redis,
            scripts,
            changes,
            AccountService(scripts, redis, changes),
            ReservationService(scripts, redis, changes, holders),
            ReservationExpiry(scripts, redis, changes, holders),
            PotService(scripts, redis, changes, holders, house_account_id),
            LedgerService(redis),
            EconomySampler(redis),
        )
