"""Table pots: open one per hand, take contributions, then settle or cancel it, all or nothing."""

from __future__ import annotations

import json

import redis.asyncio as aioredis

from domain.balance import keys
from domain.balance.commands import CancelPot, CreatePot, RecordContribution, SettlePot
from domain.balance.economy import count_closed
from domain.balance.events import BalanceChanges
from domain.balance.holders import ReservationHolders
from domain.balance.pots import split_side_pots
from domain.balance.scripts import (
    REDIS_DOWN,
    BalanceScripts,
    Prepared,
    ScriptAnswer,
    ScriptRequest,
    as_list,
    text,
)
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
        holders: ReservationHolders,
        house_account_id: str = "house",
    ) -> None:
        self.scripts = scripts
        self.redis = redis
        self.changes = changes
        self.holders = holders
        self.house_account_id = require_id(house_account_id, "house_account_id")

    async def create(self, command: CreatePot) -> tuple[Pot, bool]:
        """Open the hand's pot unless it exists; the pot and whether it is new."""
        return await self.scripts.perform(await self.prepare_create(command))

    async def prepare_create(self, command: CreatePot) -> Prepared[tuple[Pot, bool]]:
        """A checked pot opening."""
        table_id, hand_id = _pot_ids(command.table_id, command.hand_id)
        request = ScriptRequest(
            "create_pot", [table_id, hand_id], keys=keys.for_create_pot(table_id, hand_id)
        )
        return Prepared(request, lambda a: (Pot.from_json(a.body["pot"]), bool(a.body["created"])))

    async def get(self, table_id: str, hand_id: str) -> Pot:
        """The hand's pot in any state."""
        _pot_ids(table_id, hand_id)
        try:
            raw = await self.redis.get(keys.pot(table_id, hand_id))
        except REDIS_DOWN as exc:
            raise Unavailable(f"Redis is unreachable: {exc}") from exc
        if raw is None:
            raise NotFound(f"no pot for table {table_id} hand {hand_id}")
        return Pot.from_json(json.loads(raw))

    async def contribute(self, command: RecordContribution) -> ContributionResult:
        """Move chips into the pot (see `RecordContribution`)."""
        return await self.scripts.perform(await self.prepare_contribution(command))

    async def prepare_contribution(
        self, command: RecordContribution
    ) -> Prepared[ContributionResult]:
        """A checked contribution; from a reservation, its holder's keys go along."""
        table_id, hand_id = _pot_ids(command.table_id, command.hand_id)
        account_id = require_id(command.account_id)
        amount = str(require_amount(command.amount))
        reservation_id = (
            require_id(command.reservation_id, "reservation_id") if command.reservation_id else ""
        )
        key = require_idempotency_key(command.idempotency_key)
        holder = await self.holders.of(reservation_id) if reservation_id else None
        accounts = list(dict.fromkeys(a for a in (account_id, holder) if a))
        request = ScriptRequest(
            "record_contribution",
            [table_id, hand_id, account_id, amount, reservation_id],
            key,
            keys=keys.for_contribution(table_id, hand_id, reservation_id, accounts),
            accounts=accounts,
            transactions=1,
        )

        async def reread() -> Prepared[ContributionResult]:
            self.holders.forget(reservation_id)
            return await self.prepare_contribution(command)

        return Prepared(request, self._contribution, reread if reservation_id else None)

    async def settle(self, command: SettlePot) -> PotResolution:
        """Pay the winners of each side pot and the rake to the house; the sums must match."""
        return await self.scripts.perform(await self.prepare_settle(command))

    async def prepare_settle(self, command: SettlePot) -> Prepared[PotResolution]:
        """A checked settlement; the winners paid and the house are known from the command."""
        payouts = split_side_pots(command.side_pots)
        house_account_id = command.house_account_id
        house = require_id(house_account_id, "house_account_id") if house_account_id else ""
        table_id, hand_id = _pot_ids(command.table_id, command.hand_id)
        rake = require_amount(command.rake, "rake", allow_zero=True)
        house = house or self.house_account_id
        args = [table_id, hand_id, json.dumps(payouts, sort_keys=True), str(rake), house]
        paid = sorted(account for account, amount in payouts.items() if amount > 0)
        accounts = [*paid, house] if rake > 0 else paid
        request = ScriptRequest(
            "settle_pot",
            args,
            require_idempotency_key(command.idempotency_key),
            keys=keys.for_settle(table_id, hand_id, accounts),
            accounts=accounts,
            transactions=len(accounts),
        )
        return Prepared(request, lambda a: self._resolution(a, payout_source="WINNINGS"))

    async def cancel(self, command: CancelPot) -> PotResolution:
        """Give every contribution back to its contributor."""
        return await self.scripts.perform(await self.prepare_cancel(command))

    async def prepare_cancel(self, command: CancelPot) -> Prepared[PotResolution]:
        """A checked cancellation; the contributors are read from the pot first."""
        table_id, hand_id = _pot_ids(command.table_id, command.hand_id)
        key = require_idempotency_key(command.idempotency_key)
        try:
            contributors = sorted((await self.get(table_id, hand_id)).contributions)
        except NotFound:
            contributors = []  # the script answers NOT_FOUND, and the answer is kept
        request = ScriptRequest(
            "cancel_pot",
            [table_id, hand_id],
            key,
            keys=keys.for_cancel(table_id, hand_id, contributors),
            accounts=contributors,
            transactions=len(contributors),
        )

        async def reread() -> Prepared[PotResolution]:
            return await self.prepare_cancel(command)

        return Prepared(request, lambda a: self._resolution(a, payout_source="REFUND"), reread)

    async def active(self) -> list[str]:
        """`table:hand` of every open pot."""
        try:
            members = await self.redis.smembers(keys.ACTIVE_POTS)
        except REDIS_DOWN as exc:
            raise Unavailable(f"Redis is unreachable: {exc}") from exc
        return sorted(text(m) for m in members)

    def _contribution(self, answer: ScriptAnswer) -> ContributionResult:
        account = AccountBalance.from_json(answer.body["account"])
        if answer.replayed:
            self.changes.seen(account)
        else:
            self.changes.applied(account, "BET", int(answer.body["transaction"]["amount"]))
            if "reservation_status" in answer.body:
                count_closed(str(answer.body["reservation_status"]))
        return ContributionResult(account, Pot.from_json(answer.body["pot"]), answer.replayed)

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


def _pot_ids(table_id: str, hand_id: str) -> tuple[str, str]:
    return require_id(table_id, "table_id"), require_id(hand_id, "hand_id")
