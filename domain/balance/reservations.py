"""Two-phase transfers: reserve chips, then commit (all or part) or release them, exactly once."""

from __future__ import annotations

import json
import time
import uuid

import redis.asyncio as aioredis

from domain.balance import keys
from domain.balance.economy import RESERVATIONS_CLOSED
from domain.balance.events import BalanceChanges
from domain.balance.scripts import (
    REDIS_DOWN,
    BalanceScripts,
    Prepared,
    ScriptAnswer,
    ScriptRequest,
    as_list,
    text,
)
from domain.balance.types import (
    AccountBalance,
    ExpiryBatch,
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
from domain.errors import NotFound, Unavailable

RESERVE_SOURCES = frozenset({Source.BUY_IN, Source.WITHDRAWAL, Source.ADJUSTMENT})
_CLOSING = {"commit_reservation": "committed", "release_reservation": "released"}


class ReservationService:
    """Reservations of one Redis; an expired reservation cannot be committed, swept or not."""

    def __init__(
        self, scripts: BalanceScripts, redis: aioredis.Redis, changes: BalanceChanges
    ) -> None:
        self.scripts = scripts
        self.redis = redis
        self.changes = changes

    async def reserve(
        self,
        account_id: str,
        amount: int,
        *,
        ttl_seconds: int,
        idempotency_key: str,
        reservation_id: str = "",
        source: str = "",
        reference: str = "",
        expected_version: int | None = None,
    ) -> ReservationResult:
        """Hold `amount` of the available chips for `ttl_seconds`."""
        return await self.scripts.perform(
            self.prepare_reserve(
                account_id,
                amount,
                ttl_seconds=ttl_seconds,
                idempotency_key=idempotency_key,
                reservation_id=reservation_id,
                source=source,
                reference=reference,
                expected_version=expected_version,
            )
        )

    def prepare_reserve(
        self,
        account_id: str,
        amount: int,
        *,
        ttl_seconds: int,
        idempotency_key: str,
        reservation_id: str = "",
        source: str = "",
        reference: str = "",
        expected_version: int | None = None,
    ) -> Prepared[ReservationResult]:
        """A checked reservation, to run alone or in a batch."""
        chosen = parse_source(source, Source.BUY_IN, RESERVE_SOURCES)
        args = [
            require_id(account_id),
            str(require_amount(amount)),
            str(require_ttl(ttl_seconds) * 1000),
            require_id(reservation_id, "reservation_id") if reservation_id else _new_id(),
            chosen.value,
            require_reference(reference),
            version_arg(expected_version),
        ]
        return self._prepared("reserve", args, idempotency_key)

    async def commit(
        self, reservation_id: str, *, idempotency_key: str, amount: int = 0
    ) -> ReservationResult:
        """Take `amount` (0 = all) of the reserved chips; the rest is released."""
        return await self.scripts.perform(
            self.prepare_commit(reservation_id, idempotency_key=idempotency_key, amount=amount)
        )

    def prepare_commit(
        self, reservation_id: str, *, idempotency_key: str, amount: int = 0
    ) -> Prepared[ReservationResult]:
        """A checked commit, to run alone or in a batch."""
        args = [
            require_id(reservation_id, "reservation_id"),
            str(require_amount(amount, allow_zero=True)),
        ]
        return self._prepared("commit_reservation", args, idempotency_key)

    async def release(self, reservation_id: str, *, idempotency_key: str) -> ReservationResult:
        """Give the reserved chips back to the available balance."""
        return await self.scripts.perform(
            self.prepare_release(reservation_id, idempotency_key=idempotency_key)
        )

    def prepare_release(
        self, reservation_id: str, *, idempotency_key: str
    ) -> Prepared[ReservationResult]:
        """A checked release, to run alone or in a batch."""
        args = [require_id(reservation_id, "reservation_id")]
        return self._prepared("release_reservation", args, idempotency_key)

    async def get(self, reservation_id: str) -> Reservation:
        """One reservation in any state."""
        require_id(reservation_id, "reservation_id")
        try:
            raw = await self.redis.get(keys.reservation(reservation_id))
        except REDIS_DOWN as exc:
            raise Unavailable(f"Redis is unreachable: {exc}") from exc
        if raw is None:
            raise NotFound(f"reservation {reservation_id} does not exist")
        return Reservation.from_json(json.loads(raw))

    async def active(self, account_id: str) -> list[Reservation]:
        """The account's PENDING reservations that have not expired yet, oldest first."""
        require_id(account_id)
        try:
            ids = await self.redis.smembers(keys.account_reservations(account_id))
            raws = await self.redis.mget([keys.reservation(text(i)) for i in ids]) if ids else []
        except REDIS_DOWN as exc:
            raise Unavailable(f"Redis is unreachable: {exc}") from exc
        now = self.scripts.clock() or int(time.time() * 1000)
        found = [Reservation.from_json(json.loads(raw)) for raw in raws if raw is not None]
        pending = [
            r for r in found if r.status is ReservationStatus.PENDING and r.expires_at_ms > now
        ]
        return sorted(pending, key=lambda r: (r.created_at_ms, r.reservation_id))

    async def expire_due(self, limit: int = 500, now_ms: int | None = None) -> ExpiryBatch:
        """Expire up to `limit` reservations whose time has passed (at `now_ms` if given)."""
        scripts = self.scripts
        if now_ms is not None:
            scripts = scripts.with_clock(lambda: now_ms)
        answer = await scripts.run("expire_reservations", [str(limit)])
        accounts = [AccountBalance.from_json(a) for a in as_list(answer.body["accounts"])]
        for account in accounts:
            self.changes.applied(account, "EXPIRE", 0)
        expired = [str(i) for i in as_list(answer.body["expired"])]
        RESERVATIONS_CLOSED.labels("expired").inc(len(expired))
        return ExpiryBatch(expired, accounts, int(answer.body["remaining"]))

    def _prepared(
        self, operation: str, args: list[str], idempotency_key: str
    ) -> Prepared[ReservationResult]:
        request = ScriptRequest(operation, args, require_idempotency_key(idempotency_key))

        def finish(answer: ScriptAnswer) -> ReservationResult:
            account = AccountBalance.from_json(answer.body["account"])
            reservation = Reservation.from_json(answer.body["reservation"])
            transaction = Transaction.from_json(answer.body["transaction"])
            if answer.replayed:
                self.changes.seen(account)
            else:
                self.changes.applied(account, transaction.source, transaction.amount)
                if operation in _CLOSING:
                    RESERVATIONS_CLOSED.labels(_CLOSING[operation]).inc()
            return ReservationResult(account, reservation, answer.replayed)

        return Prepared(request, finish)


def _new_id() -> str:
    return f"res_{uuid.uuid4().hex}"
