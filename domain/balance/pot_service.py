"""Table pots: open one per hand, take contributions, then settle or cancel it, all or nothing."""

from __future__ import annotations

import json
from typing import Any

from domain.balance import keys, script_keys
from domain.balance.commands import CancelPot, CreatePot, RecordContribution, SettlePot
from domain.balance.economy import count_closed
from domain.balance.events import BalanceChanges
from domain.balance.holders import ReservationHolders
from domain.balance.outbox import holder_unknown
from domain.balance.pots import split_side_pots
from domain.balance.replies import as_list, text
from domain.balance.requests import Prepared, ScriptAnswer, ScriptRequest
from domain.balance.scripts import REDIS_DOWN, BalanceScripts
from domain.balance.slots import ACTIVE_POTS, per_slot
from domain.balance.types import AccountBalance, ContributionResult, Pot, PotResolution
from domain.balance.validation import require_amount, require_id, require_idempotency_key
from domain.errors import DomainError, ErrorCode, NotFound, Unavailable, ValidationFailed
from infra.redis import RedisClient


class PotService:
    """Pots of one Redis; every chip that enters a pot leaves it to a winner, the house or back."""

    def __init__(
        self,
        scripts: BalanceScripts,
        redis: RedisClient,
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
            "create_pot",
            [table_id, hand_id],
            table_id,
            keys=script_keys.for_create_pot(table_id, hand_id),
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
        """A checked contribution; from a reservation, it must be the contributor's.

        A contributor of the pot's slot is one script. One of another slot gives the chips in
        its own slot (contribute_out.lua), which owes them to the pot; the pot is checked open
        first, and if it closes before they arrive they come back (deliver_contribution.lua).
        """
        table_id, hand_id = _pot_ids(command.table_id, command.hand_id)
        account_id = require_id(command.account_id)
        amount = str(require_amount(command.amount))
        reservation_id = (
            require_id(command.reservation_id, "reservation_id") if command.reservation_id else ""
        )
        key = require_idempotency_key(command.idempotency_key)

        async def reread() -> Prepared[ContributionResult]:
            self.holders.forget(reservation_id)
            return await self.prepare_contribution(command)

        if reservation_id:
            holder = await self.holders.of(reservation_id)
            if holder is None:
                return Prepared(holder_unknown(reservation_id), self._contribution, reread)
            if holder != account_id:
                raise ValidationFailed("the reservation belongs to another account")
        args = [table_id, hand_id, account_id, amount, reservation_id]
        if keys.slot_of(keys.home(account_id)) == keys.slot_of(table_id):
            request = ScriptRequest(
                "record_contribution",
                args,
                table_id,
                key,
                keys=script_keys.for_contribution(
                    table_id, hand_id, account_id, reservation_id, [account_id]
                ),
                accounts=[account_id],
                transactions=1,
            )
        else:
            if not await self._answered(keys.home(account_id), key):
                # A first try: refuse a pot that is closed already, before a chip moves.
                pot = await self.get(table_id, hand_id)
                if pot.status != "OPEN":
                    raise DomainError(
                        f"the pot is already {pot.status}", code=ErrorCode.POT_ALREADY_SETTLED
                    )
            request = ScriptRequest(
                "contribute_out",
                args,
                keys.home(account_id),
                key,
                keys=script_keys.for_contribution_out(account_id, reservation_id),
                accounts=[account_id],
                transactions=1,
            )
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
        receiving = [*paid, house] if rake > 0 else paid
        local, remote = _by_slot(table_id, receiving)
        request = ScriptRequest(
            "settle_pot",
            args,
            table_id,
            require_idempotency_key(command.idempotency_key),
            keys=script_keys.for_settle(table_id, hand_id, local),
            accounts=local,
            transactions=len(local),
            remote=remote,
        )
        return Prepared(
            request, lambda a: self._resolution(a, receiving, local, payout_source="WINNINGS")
        )

    async def cancel(self, command: CancelPot) -> PotResolution:
        """Give every contribution back to its contributor."""
        return await self.scripts.perform(await self.prepare_cancel(command))

    async def prepare_cancel(self, command: CancelPot) -> Prepared[PotResolution]:
        """A checked cancellation; the contributors are read from the pot first."""
        table_id, hand_id = _pot_ids(command.table_id, command.hand_id)
        key = require_idempotency_key(command.idempotency_key)
        try:
            found = await self.get(table_id, hand_id)
            contributors = sorted(a for a, amount in found.contributions.items() if amount > 0)
        except NotFound:
            contributors = []  # the script answers NOT_FOUND, and the answer is kept
        local, remote = _by_slot(table_id, contributors)
        request = ScriptRequest(
            "cancel_pot",
            [table_id, hand_id],
            table_id,
            key,
            keys=script_keys.for_cancel(table_id, hand_id, local),
            accounts=local,
            transactions=len(local),
            remote=remote,
        )

        async def reread() -> Prepared[PotResolution]:
            return await self.prepare_cancel(command)

        return Prepared(
            request,
            lambda a: self._resolution(a, contributors, local, payout_source="REFUND"),
            reread,
        )

    async def active(self) -> list[str]:
        """`table:hand` of every open pot."""
        try:
            by_slot = await per_slot(self.redis, "SMEMBERS", ACTIVE_POTS)
        except REDIS_DOWN as exc:
            raise Unavailable(f"Redis is unreachable: {exc}") from exc
        return sorted(text(m) for members in by_slot.values() for m in members)

    async def _answered(self, tag: str, idempotency_key: str) -> bool:
        try:
            return bool(await self.redis.exists(keys.idempotency(tag, idempotency_key)))
        except REDIS_DOWN as exc:
            raise Unavailable(f"Redis is unreachable: {exc}") from exc

    def _contribution(self, answer: ScriptAnswer) -> ContributionResult:
        account = AccountBalance.from_json(answer.body["account"])
        pot_body: dict[str, Any] = answer.body.get("pot") or {}
        if answer.delivered:  # the pot is of another slot: its answer is the delivery's
            arrived = answer.delivered[0]
            if not arrived.get("ok"):
                # It closed before the chips arrived; they went back (a refund delivered).
                raise DomainError(
                    str(arrived.get("detail", "")),
                    code=ErrorCode(arrived.get("code", ErrorCode.INTERNAL)),
                    replayed=answer.replayed,
                )
            pot_body = arrived["pot"]
        if answer.replayed:
            self.changes.seen(account)
        else:
            self.changes.applied(account, "BET", int(answer.body["transaction"]["amount"]))
            if "reservation_status" in answer.body:
                count_closed(str(answer.body["reservation_status"]))
        return ContributionResult(account, Pot.from_json(pot_body), answer.replayed)

    def _resolution(
        self,
        answer: ScriptAnswer,
        receiving: list[str],
        local: list[str],
        payout_source: str,
    ) -> PotResolution:
        body = answer.body
        payouts = {str(k): int(v) for k, v in dict(body.get("payouts") or {}).items()}
        rake = int(body["rake"])
        # The script lists the accounts it paid in its slot in order; the deliveries, in the
        # same order, those of other slots. Together: the winners paid, then the house.
        # An answer that owed nothing (all in one slot, or kept from before slots) lists all.
        here = iter(as_list(body["accounts"]))
        there = iter(d["account"] for d in answer.delivered)
        owed = bool(body.get("owed"))
        views = [
            next(there) if owed and account not in local else next(here) for account in receiving
        ]
        accounts = [AccountBalance.from_json(a) for a in views]
        paid = sum(1 for amount in payouts.values() if amount > 0)
        for position, account in enumerate(accounts):
            if answer.replayed:
                self.changes.seen(account)
            elif position < paid:
                self.changes.applied(account, payout_source, payouts[account.account_id])
            else:
                self.changes.applied(account, "RAKE", rake)
        return PotResolution(Pot.from_json(body["pot"]), accounts, payouts, rake, answer.replayed)


def _by_slot(table_id: str, accounts: list[str]) -> tuple[list[str], list[str]]:
    """`accounts` of the table's slot (paid in the script) and of others (owed, delivered)."""
    slot = keys.slot_of(table_id)
    local = [a for a in accounts if keys.slot_of(keys.home(a)) == slot]
    return local, [a for a in accounts if a not in local]


def _pot_ids(table_id: str, hand_id: str) -> tuple[str, str]:
    return require_id(table_id, "table_id"), require_id(hand_id, "hand_id")
