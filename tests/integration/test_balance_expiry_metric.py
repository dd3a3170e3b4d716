"""The reservation-expiry rate is readable from one counter: every ending counted as it ended.

`saga_balance_reservations_closed_total{outcome}` counts a reservation once, by the state it
ended in (the seed's goal "< 1% of reservations expire" is expired over the sum): a release
or a commit that finds it past its expiry expires it, and a pot contribution commits it.
"""

from __future__ import annotations

import pytest
import redis.asyncio as aioredis
from prometheus_client import REGISTRY

from domain.balance.commands import (
    CommitReservation,
    CreatePot,
    Credit,
    RecordContribution,
    ReleaseReservation,
    Reserve,
)
from domain.errors import DomainError, ErrorCode
from tests.balance_support import (
    FakeClock,
    both_stores,  # noqa: F401  (each test on both stores)
    make_book,
)

OUTCOMES = ("committed", "released", "expired")


def closed() -> dict[str, float]:
    """The counter's value per outcome now."""
    return {
        outcome: REGISTRY.get_sample_value(
            "saga_balance_reservations_closed_total", {"outcome": outcome}
        )
        or 0.0
        for outcome in OUTCOMES
    }


def counted_since(before: dict[str, float]) -> dict[str, float]:
    """What the counter gained per outcome since `before`."""
    now = closed()
    return {outcome: now[outcome] - before[outcome] for outcome in OUTCOMES}


async def held(redis: aioredis.Redis, clock: FakeClock, key: str, ttl: int = 60) -> str:
    book = make_book(redis, clock)
    await book.accounts.credit(Credit(account_id="p1", amount=1_000, idempotency_key=f"f-{key}"))
    answer = await book.reservations.reserve(
        Reserve(account_id="p1", amount=100, ttl_seconds=ttl, idempotency_key=f"r-{key}")
    )
    return answer.reservation.reservation_id


async def test_a_release_after_expiry_counts_as_expired(redis: aioredis.Redis) -> None:
    clock = FakeClock()
    rid = await held(redis, clock, "late-release", ttl=5)
    clock.advance(6)
    before = closed()
    answer = await make_book(redis, clock).reservations.release(
        ReleaseReservation(reservation_id=rid, idempotency_key="rel")
    )
    assert answer.reservation.status == "EXPIRED"
    assert counted_since(before) == {"committed": 0, "released": 0, "expired": 1}


async def test_a_commit_that_finds_it_expired_counts_one_expiry_even_when_retried(
    redis: aioredis.Redis,
) -> None:
    clock = FakeClock()
    rid = await held(redis, clock, "late-commit", ttl=5)
    clock.advance(6)
    before = closed()
    book = make_book(redis, clock)
    for _ in range(2):  # the same call again is a replay: it ended nothing more
        with pytest.raises(DomainError) as refused:
            await book.reservations.commit(
                CommitReservation(reservation_id=rid, idempotency_key="late")
            )
        assert refused.value.code is ErrorCode.RESERVATION_EXPIRED
    assert counted_since(before) == {"committed": 0, "released": 0, "expired": 1}


async def test_a_contribution_from_a_reservation_counts_it_committed(
    redis: aioredis.Redis,
) -> None:
    clock = FakeClock()
    rid = await held(redis, clock, "bet")
    book = make_book(redis, clock)
    await book.pots.create(CreatePot(table_id="t1", hand_id="h1"))
    before = closed()
    bet = RecordContribution(
        table_id="t1",
        hand_id="h1",
        account_id="p1",
        amount=60,
        reservation_id=rid,
        idempotency_key="bet-1",
    )
    await book.pots.contribute(bet)
    await book.pots.contribute(bet)  # replayed: counted once
    assert counted_since(before) == {"committed": 1, "released": 0, "expired": 0}


async def test_releases_and_commits_in_time_count_as_such(redis: aioredis.Redis) -> None:
    clock = FakeClock()
    first = await held(redis, clock, "a")
    second = await held(redis, clock, "b")
    book = make_book(redis, clock)
    before = closed()
    await book.reservations.release(ReleaseReservation(reservation_id=first, idempotency_key="x"))
    await book.reservations.commit(CommitReservation(reservation_id=second, idempotency_key="y"))
    assert counted_since(before) == {"committed": 1, "released": 1, "expired": 0}
