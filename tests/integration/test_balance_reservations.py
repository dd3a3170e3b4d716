"""Two-phase transfers over real Valkey: resolved exactly once, expiry honoured before any sweep."""

from __future__ import annotations

import asyncio

import pytest
import redis.asyncio as aioredis

from domain.balance import keys
from domain.balance.commands import CommitReservation, Credit, ReleaseReservation, Reserve
from domain.balance.types import ReservationStatus
from domain.errors import DomainError, ErrorCode
from tests.balance_support import (
    FakeClock,
    Keys,
    both_stores,  # noqa: F401  (each test on both stores)
    make_book,
    next_event,
    subscribed,
)


async def funded(redis: aioredis.Redis, clock: FakeClock | None = None, chips: int = 1_000):  # type: ignore[no-untyped-def]
    book = make_book(redis, clock)
    await book.accounts.credit(Credit(account_id="p1", amount=chips, idempotency_key="fund"))
    return book


async def test_reserve_then_partial_commit_releases_the_rest(redis: aioredis.Redis) -> None:
    book = await funded(redis, FakeClock())
    held = await book.reservations.reserve(
        Reserve(account_id="p1", amount=400, ttl_seconds=60, idempotency_key="r")
    )
    assert (held.account.balance, held.account.reserved, held.account.available) == (1000, 400, 600)
    assert [r.reservation_id for r in await book.reservations.active("p1")] == [
        held.reservation.reservation_id
    ]
    done = await book.reservations.commit(
        CommitReservation(
            reservation_id=held.reservation.reservation_id, amount=250, idempotency_key="c"
        )
    )
    assert done.reservation.status is ReservationStatus.COMMITTED
    assert done.reservation.committed_amount == 250
    assert (done.account.balance, done.account.reserved, done.account.available) == (750, 0, 750)
    assert await book.reservations.active("p1") == []
    assert not await redis.zscore(
        keys.reservation_expiry(held.reservation.account_id),
        keys.expiry_member(held.reservation.account_id, held.reservation.reservation_id),
    )


async def test_a_reservation_resolves_exactly_once(redis: aioredis.Redis) -> None:
    book = await funded(redis, FakeClock())
    held = await book.reservations.reserve(
        Reserve(account_id="p1", amount=100, ttl_seconds=60, idempotency_key="r")
    )
    rid = held.reservation.reservation_id
    released = await book.reservations.release(
        ReleaseReservation(reservation_id=rid, idempotency_key="rel")
    )
    assert released.reservation.status is ReservationStatus.RELEASED
    assert released.account.available == 1000
    for attempt in (
        book.reservations.commit(CommitReservation(reservation_id=rid, idempotency_key="c")),
        book.reservations.release(ReleaseReservation(reservation_id=rid, idempotency_key="rel2")),
    ):
        with pytest.raises(DomainError) as refused:
            await attempt
        assert refused.value.code is ErrorCode.RESERVATION_ALREADY_RESOLVED
    assert (
        await book.reservations.release(
            ReleaseReservation(reservation_id=rid, idempotency_key="rel")
        )
    ).replayed


async def test_an_expired_reservation_cannot_be_committed_before_the_sweep(
    redis: aioredis.Redis,
) -> None:
    clock = FakeClock()
    book = await funded(redis, clock)
    held = await book.reservations.reserve(
        Reserve(account_id="p1", amount=300, ttl_seconds=30, idempotency_key="r")
    )
    clock.advance(30)
    with pytest.raises(DomainError) as late:
        await book.reservations.commit(
            CommitReservation(reservation_id=held.reservation.reservation_id, idempotency_key="c")
        )
    assert late.value.code is ErrorCode.RESERVATION_EXPIRED
    reservation = await book.reservations.get(held.reservation.reservation_id)
    assert reservation.status is ReservationStatus.EXPIRED
    assert (await book.accounts.get_balance("p1")).available == 1000
    batch = await book.expiry.expire_due()
    assert batch.expired == []


async def test_releasing_past_expiry_ends_expired(redis: aioredis.Redis) -> None:
    clock = FakeClock()
    book = await funded(redis, clock)
    held = await book.reservations.reserve(
        Reserve(account_id="p1", amount=300, ttl_seconds=5, idempotency_key="r")
    )
    clock.advance(6)
    released = await book.reservations.release(
        ReleaseReservation(reservation_id=held.reservation.reservation_id, idempotency_key="x")
    )
    assert released.reservation.status is ReservationStatus.EXPIRED
    assert released.account.reserved == 0


async def test_the_sweep_expires_only_what_is_due(redis: aioredis.Redis) -> None:
    clock = FakeClock()
    book = await funded(redis, clock)
    soon = await book.reservations.reserve(
        Reserve(account_id="p1", amount=100, ttl_seconds=5, idempotency_key="a")
    )
    later = await book.reservations.reserve(
        Reserve(account_id="p1", amount=100, ttl_seconds=50, idempotency_key="b")
    )
    clock.advance(10)
    pubsub = await subscribed(redis, "user:p1")
    batch = await book.expiry.expire_due()
    event = await next_event(pubsub)
    await pubsub.aclose()
    assert event is not None
    assert (event["source"], event["reserved"], event["available"]) == ("EXPIRE", 100, 900)
    assert batch.expired == [soon.reservation.reservation_id]
    assert [a.reserved for a in batch.accounts] == [100]
    assert batch.remaining == 0
    assert (await book.reservations.get(later.reservation.reservation_id)).status is (
        ReservationStatus.PENDING
    )
    at_time = await book.expiry.expire_due(now_ms=clock.now_ms + 60_000)
    assert at_time.expired == [later.reservation.reservation_id]


async def test_reservation_errors(redis: aioredis.Redis) -> None:
    book = await funded(redis, FakeClock(), chips=100)
    with pytest.raises(DomainError) as short:
        await book.reservations.reserve(
            Reserve(account_id="p1", amount=101, ttl_seconds=5, idempotency_key="a")
        )
    assert short.value.code is ErrorCode.INSUFFICIENT_FUNDS
    held = await book.reservations.reserve(
        Reserve(
            account_id="p1", amount=10, ttl_seconds=5, idempotency_key="b", reservation_id="fixed"
        )
    )
    with pytest.raises(DomainError) as twice:
        await book.reservations.reserve(
            Reserve(
                account_id="p1",
                amount=10,
                ttl_seconds=5,
                idempotency_key="c",
                reservation_id="fixed",
            )
        )
    assert twice.value.code is ErrorCode.ALREADY_EXISTS
    with pytest.raises(DomainError) as too_much:
        await book.reservations.commit(
            CommitReservation(
                reservation_id=held.reservation.reservation_id, amount=11, idempotency_key="d"
            )
        )
    assert too_much.value.code is ErrorCode.VALIDATION_FAILED
    with pytest.raises(DomainError) as missing:
        await book.reservations.commit(
            CommitReservation(reservation_id="nope", idempotency_key="e")
        )
    assert missing.value.code is ErrorCode.NOT_FOUND
    with pytest.raises(DomainError) as conflict:
        await book.reservations.reserve(
            Reserve(
                account_id="p1", amount=1, ttl_seconds=5, idempotency_key="f", expected_version=0
            )
        )
    assert conflict.value.code is ErrorCode.VERSION_CONFLICT


async def test_concurrent_reserve_and_commit_keep_every_invariant(redis: aioredis.Redis) -> None:
    book = await funded(redis, chips=10_000)
    key = Keys("conc")

    async def buy_in(n: int) -> int:
        try:
            held = await book.reservations.reserve(
                Reserve(account_id="p1", amount=700, ttl_seconds=60, idempotency_key=key())
            )
        except DomainError as refused:
            if refused.code is not ErrorCode.INSUFFICIENT_FUNDS:
                raise
            return 0
        rid = held.reservation.reservation_id
        if n % 3 == 0:
            await book.reservations.release(
                ReleaseReservation(reservation_id=rid, idempotency_key=key())
            )
            return 0
        # Two racers try to resolve the same reservation: exactly one wins.
        outcomes = await asyncio.gather(
            book.reservations.commit(
                CommitReservation(reservation_id=rid, amount=500, idempotency_key=key())
            ),
            book.reservations.commit(
                CommitReservation(reservation_id=rid, amount=500, idempotency_key=key())
            ),
            return_exceptions=True,
        )
        wins = [o for o in outcomes if not isinstance(o, BaseException)]
        assert len(wins) == 1
        return 500

    committed = sum(await asyncio.gather(*(buy_in(n) for n in range(40))))
    account = await book.accounts.get_balance("p1")
    assert account.reserved == 0
    assert account.balance == 10_000 - committed >= 0
    verified = await book.ledger.verify("p1")
    assert verified.valid


async def test_a_retried_reserve_without_an_id_replays_the_same_reservation(
    redis: aioredis.Redis,
) -> None:
    book = await funded(redis, FakeClock())
    ask = Reserve(account_id="p1", amount=300, ttl_seconds=60, idempotency_key="buyin-7")
    first = await book.reservations.reserve(ask)
    again = await book.reservations.reserve(ask)
    assert again.replayed
    assert again.reservation.reservation_id == first.reservation.reservation_id
    assert again.account.reserved == 300  # held once
    assert [r.reservation_id for r in await book.reservations.active("p1")] == [
        first.reservation.reservation_id
    ]
    # Another key is another reservation, even for the same amount.
    other = await book.reservations.reserve(
        Reserve(account_id="p1", amount=300, ttl_seconds=60, idempotency_key="buyin-8")
    )
    assert other.reservation.reservation_id != first.reservation.reservation_id
    assert other.account.reserved == 600
