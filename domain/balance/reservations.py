"""Two-phase transfers: reserve chips, then commit (all or part) or release them, exactly once."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Awaitable, Callable, Mapping

from domain.balance import keys, script_keys
from domain.balance.chain_hints import ExpectedEntry
from domain.balance.commands import CommitReservation, ReleaseReservation, Reserve
from domain.balance.economy import count_closed
from domain.balance.events import BalanceChanges
from domain.balance.holders import ReservationHolders
from domain.balance.outbox import holder_unknown
from domain.balance.replies import text
from domain.balance.requests import Prepared, ScriptAnswer, ScriptRequest
from domain.balance.scripts import REDIS_DOWN, BalanceScripts
from domain.balance.types import (
    AccountBalance,
    Reservation,
    ReservationResult,
    ReservationStatus,
    Source,
    Transaction,
    parse_source,
)
from domain.balance.validation import (
    require_amount,
    require_id,
    require_idempotency_key,
    require_reference,
    require_ttl,
    version_arg,
)
from domain.errors import NotFound, Unavailable, ValidationFailed
from infra.redis import RedisClient

RESERVE_SOURCES = frozenset({Source.BUY_IN, Source.WITHDRAWAL, Source.CASH_OUT, Source.ADJUSTMENT})
# A commit may credit the chips to another account under any source.
TRANSFER_SOURCES = frozenset(Source)
_NO_PLAN: Mapping[str, str] = {}

# Namespace of the reservation ids derived from an idempotency key (uuid5).
_RESERVATION_IDS = uuid.UUID("6f1c2a4e-9b7d-5e3f-8a1b-2c4d6e8f0a1b")


class ReservationService:
    """Reservations of one Redis; an expired reservation cannot be committed, swept or not."""

    def __init__(
        self,
        scripts: BalanceScripts,
        redis: RedisClient,
        changes: BalanceChanges,
        holders: ReservationHolders,
    ) -> None:
        self.scripts = scripts
        self.redis = redis
        self.changes = changes
        self.holders = holders

    async def reserve(self, command: Reserve) -> ReservationResult:
        """Hold chips for a later commit or release (see `Reserve`)."""
        return await self.scripts.perform(await self.prepare_reserve(command))

    async def prepare_reserve(self, command: Reserve) -> Prepared[ReservationResult]:
        """A checked reservation, to run alone or in a batch."""
        chosen = parse_source(command.source, Source.BUY_IN, RESERVE_SOURCES)
        account_id = require_id(command.account_id)
        key = require_idempotency_key(command.idempotency_key)
        # Without an id of the caller's, the id comes from the idempotency key: a retry of the
        # same request names the same reservation, so it replays instead of being refused as
        # a different request under a used key.
        reservation_id = (
            require_id(command.reservation_id, "reservation_id")
            if command.reservation_id
            else f"res_{uuid.uuid5(_RESERVATION_IDS, f'{account_id}:{key}').hex}"
        )
        args = [
            account_id,
            str(require_amount(command.amount)),
            str(require_ttl(command.ttl_seconds) * 1000),
            reservation_id,
            chosen.value,
            require_reference(command.reference),
            version_arg(command.expected_version),
        ]
        # The holder is named where any caller finds it, before the reservation exists.
        await self.holders.claim(reservation_id, account_id)
        request = ScriptRequest(
            "reserve",
            args,
            keys.home(account_id),
            key,
            keys=script_keys.for_reserve(account_id, reservation_id),
            accounts=[account_id],
            transactions=1,
            expected=ExpectedEntry(account_id, "RESERVE", chosen.value, 0, command.amount),
        )
        return Prepared(request, self._finish())

    async def commit(self, command: CommitReservation) -> ReservationResult:
        """Take all or part of a reservation, the rest released (see `CommitReservation`)."""
        return await self.scripts.perform(await self.prepare_commit(command))

    async def prepare_commit(
        self, command: CommitReservation, planned: Mapping[str, str] = _NO_PLAN
    ) -> Prepared[ReservationResult]:
        """A checked commit, alone or in a batch (`planned`: who reserved what above it)."""
        reservation_id = require_id(command.reservation_id, "reservation_id")
        args = [reservation_id, str(require_amount(command.amount, allow_zero=True))]
        to_account = ""
        if command.to_account_id:
            to_account = require_id(command.to_account_id, "to_account_id")
            source = parse_source(command.source, Source.ADJUSTMENT, TRANSFER_SOURCES)
            # Only then: a plain commit keeps the arguments, so the fingerprint, of before.
            args += [to_account, source.value if command.source else ""]
        elif command.source:
            raise ValidationFailed("source is the credited account's: it needs to_account_id")
        key = require_idempotency_key(command.idempotency_key)
        holder = await self._holder(reservation_id, planned)
        if holder is None:
            return self._unknown(reservation_id, command)
        # An account of another slot is owed the chips (the script's outbox, then delivered).
        remote = [to_account] if to_account and not _same_slot(holder, to_account) else []
        accounts = list(dict.fromkeys(a for a in (holder, to_account) if a and a not in remote))
        request = ScriptRequest(
            "commit_reservation",
            args,
            keys.home(holder),
            key,
            keys=script_keys.for_commit(holder, reservation_id, accounts),
            accounts=accounts,
            transactions=len(accounts),
            remote=remote,
        )
        return Prepared(request, self._finish(), self._reread(reservation_id, command))

    async def release(self, command: ReleaseReservation) -> ReservationResult:
        """Give the reserved chips back to the available balance."""
        return await self.scripts.perform(await self.prepare_release(command))

    async def prepare_release(
        self, command: ReleaseReservation, planned: Mapping[str, str] = _NO_PLAN
    ) -> Prepared[ReservationResult]:
        """A checked release, to run alone or in a batch (`planned` as for a commit)."""
        reservation_id = require_id(command.reservation_id, "reservation_id")
        key = require_idempotency_key(command.idempotency_key)
        holder = await self._holder(reservation_id, planned)
        if holder is None:
            return self._unknown(reservation_id, command)
        request = ScriptRequest(
            "release_reservation",
            [reservation_id],
            keys.home(holder),
            key,
            keys=script_keys.for_release(holder, reservation_id),
            accounts=[holder],
            transactions=1,
        )
        return Prepared(request, self._finish(), self._reread(reservation_id, command))

    async def get(self, reservation_id: str) -> Reservation:
        """One reservation in any state."""
        require_id(reservation_id, "reservation_id")
        holder = await self.holders.of(reservation_id)
        try:
            raw = await self.redis.get(keys.reservation(holder, reservation_id)) if holder else None
        except REDIS_DOWN as exc:
            raise Unavailable(f"Redis is unreachable: {exc}") from exc
        if raw is None:
            raise NotFound(f"reservation {reservation_id} does not exist")
        reservation = Reservation.from_json(json.loads(raw))
        self.holders.learn(reservation_id, reservation.account_id)
        return reservation

    async def active(self, account_id: str) -> list[Reservation]:
        """The account's PENDING reservations that have not expired yet, oldest first."""
        require_id(account_id)
        try:
            ids = await self.redis.smembers(keys.account_reservations(account_id))
            raws = (
                await self.redis.mget([keys.reservation(account_id, text(i)) for i in ids])
                if ids
                else []
            )
        except REDIS_DOWN as exc:
            raise Unavailable(f"Redis is unreachable: {exc}") from exc
        now = self.scripts.clock() or int(time.time() * 1000)
        found = [Reservation.from_json(json.loads(raw)) for raw in raws if raw is not None]
        pending = [
            r for r in found if r.status is ReservationStatus.PENDING and r.expires_at_ms > now
        ]
        return sorted(pending, key=lambda r: (r.created_at_ms, r.reservation_id))

    async def _holder(self, reservation_id: str, planned: Mapping[str, str]) -> str | None:
        # A holder read from Redis beats the batch's plan: a reservation that already exists
        # stays its holder's, and the batch's own reserve of that id will be refused.
        return (
            self.holders.known(reservation_id)
            or planned.get(reservation_id)
            or await self.holders.of(reservation_id)
        )

    def _unknown(
        self, reservation_id: str, command: CommitReservation | ReleaseReservation
    ) -> Prepared[ReservationResult]:
        # NOT_FOUND, unless the reservation is made before this runs: then read again.
        return Prepared(
            holder_unknown(reservation_id), self._finish(), self._reread(reservation_id, command)
        )

    def _reread(
        self, reservation_id: str, command: CommitReservation | ReleaseReservation
    ) -> Callable[[], Awaitable[Prepared[ReservationResult]]]:
        async def reread() -> Prepared[ReservationResult]:
            self.holders.forget(reservation_id)
            if isinstance(command, CommitReservation):
                return await self.prepare_commit(command)
            return await self.prepare_release(command)

        return reread

    def _finish(self) -> Callable[[ScriptAnswer], ReservationResult]:
        def finish(answer: ScriptAnswer) -> ReservationResult:
            body = answer.body
            account = AccountBalance.from_json(body["account"])
            reservation = Reservation.from_json(body["reservation"])
            transaction = Transaction.from_json(body["transaction"])
            to_account = None
            credit_body = body
            if answer.delivered:  # the chips went to an account of another slot
                credit_body = {
                    "to_account": answer.delivered[0]["account"],
                    "to_transaction": answer.delivered[0]["transaction"],
                }
            if "to_account" in credit_body:
                to_account = AccountBalance.from_json(credit_body["to_account"])
            self.holders.learn(reservation.reservation_id, reservation.account_id)
            if answer.replayed:
                self.changes.seen(account)
                if to_account is not None:
                    self.changes.seen(to_account)
            else:
                self.changes.applied(account, transaction.source, transaction.amount)
                if to_account is not None:
                    credit = Transaction.from_json(credit_body["to_transaction"])
                    self.changes.applied(to_account, credit.source, credit.amount)
                if reservation.status is not ReservationStatus.PENDING:
                    count_closed(reservation.status)
            return ReservationResult(account, reservation, answer.replayed, to_account)

        return finish


def _same_slot(a: str, b: str) -> bool:
    return keys.slot_of(keys.home(a)) == keys.slot_of(keys.home(b))
