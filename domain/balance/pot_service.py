"""Table pots: open one per hand, take contributions, then settle or cancel it, all or nothing."""

from __future__ import annotations

import json
from collections.abc import Sequence

import redis.asyncio as aioredis

from domain.balance import keys
from domain.balance.events import BalanceChanges
from domain.balance.pots import SidePot, split_side_pots
from domain.balance.scripts import REDIS_DOWN, BalanceScripts, ScriptAnswer, as_list, text
from domain.balance.types import AccountBalance, ContributionResult, Pot, PotResolution
from domain.balance.validation import require_amount, require_id, require_idempotency_key
from domain.errors import NotFound, Unavailable


class PotService:
    """Pots of one Redis; every chip that enters a pot leaves it to a winner, the house or back."""

    def __init__(
        self,
        scripts: BalanceScripts,
        redis: aioredis.Redis,
        changes: BalanceChanges,
        house_account_id: str = "house",
    ) -> None:
        self.scripts = scripts
        self.redis = redis
        self.changes = changes
        self.house_account_id = require_id(house_account_id, "house_account_id")

    async def create(self, table_id: str, hand_id: str) -> tuple[Pot, bool]:
        """Open the hand's pot unless it exists; the pot and whether it is new."""
        answer = await self.scripts.run("create_pot", _pot_args(table_id, hand_id))
        return Pot.from_json(answer.body["pot"]), bool(answer.body["created"])

    async def get(self, table_id: str, hand_id: str) -> Pot:
        """The hand's pot in any state."""
        _pot_args(table_id, hand_id)
        try:
            raw = await self.redis.get(keys.pot(table_id, hand_id))
        except REDIS_DOWN as exc:
            raise Unavailable(f"Redis is unreachable: {exc}") from exc
        if raw is None:
            raise NotFound(f"no pot for table {table_id} hand {hand_id}")
        return Pot.from_json(json.loads(raw))

    async def contribute(
        self,
        table_id: str,
        hand_id: str,
        account_id: str,
        amount: int,
        *,
        idempotency_key: str,
        reservation_id: str = "",
    ) -> ContributionResult:
        """Move chips into the pot from a reservation (committing it) or the available balance."""
        args = [
            *_pot_args(table_id, hand_id),
            require_id(account_id),
            str(require_amount(amount)),
            require_id(reservation_id, "reservation_id") if reservation_id else "",
        ]
        answer = await self.scripts.run(
            "record_contribution", args, idempotency_key=require_idempotency_key(idempotency_key)
        )
        account = AccountBalance.from_json(answer.body["account"])
        if answer.replayed:
            self.changes.seen(account)
        else:
            self.changes.applied(account, "BET", int(answer.body["transaction"]["amount"]))
        return ContributionResult(account, Pot.from_json(answer.body["pot"]), answer.replayed)

    async def settle(
        self,
        table_id: str,
        hand_id: str,
        side_pots: Sequence[SidePot],
        *,
        idempotency_key: str,
        rake: int = 0,
        house_account_id: str = "",
    ) -> PotResolution:
        """Pay the winners of each side pot and the rake to the house; the sums must match."""
        payouts = split_side_pots(side_pots)
        house = require_id(house_account_id, "house_account_id") if house_account_id else ""
        args = [
            *_pot_args(table_id, hand_id),
            json.dumps(payouts, sort_keys=True),
            str(require_amount(rake, "rake", allow_zero=True)),
            house or self.house_account_id,
        ]
        answer = await self.scripts.run(
            "settle_pot", args, idempotency_key=require_idempotency_key(idempotency_key)
        )
        return self._resolution(answer, payout_source="WINNINGS")

    async def cancel(self, table_id: str, hand_id: str, *, idempotency_key: str) -> PotResolution:
        """Give every contribution back to its contributor."""
        answer = await self.scripts.run(
            "cancel_pot",
            _pot_args(table_id, hand_id),
            idempotency_key=require_idempotency_key(idempotency_key),
        )
        return self._resolution(answer, payout_source="REFUND")

    async def active(self) -> list[str]:
        """`table:hand` of every open pot."""
        try:
            members = await self.redis.smembers(keys.ACTIVE_POTS)
        except REDIS_DOWN as exc:
            raise Unavailable(f"Redis is unreachable: {exc}") from exc
        return sorted(text(m) for m in members)

    def _resolution(self, answer: ScriptAnswer, payout_source: str) -> PotResolution:
        body = answer.body
        payouts = {str(k): int(v) for k, v in dict(body.get("payouts") or {}).items()}
        rake = int(body["rake"])
        accounts = [AccountBalance.from_json(a) for a in as_list(body["accounts"])]
        # The script lists the paid accounts in order, then the house if it took a rake.
        paid = sum(1 for amount in payouts.values() if amount > 0)
        for position, account in enumerate(accounts):
            if answer.replayed:
                self.changes.seen(account)
            elif position < paid:
                self.changes.applied(account, payout_source, payouts[account.account_id])
            else:
                self.changes.applied(account, "RAKE", rake)
        return PotResolution(Pot.from_json(body["pot"]), accounts, payouts, rake, answer.replayed)


def _pot_args(table_id: str, hand_id: str) -> list[str]:
    return [require_id(table_id, "table_id"), require_id(hand_id, "hand_id")]
