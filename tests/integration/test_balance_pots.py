"""Table pots over real Valkey: contributions, side pots, rake, cancellation; chips conserved."""

from __future__ import annotations

import pytest
import redis.asyncio as aioredis

from domain.balance import keys
from domain.balance.book import BalanceBook
from domain.balance.commands import (
    CancelPot,
    CreatePot,
    Credit,
    RecordContribution,
    Reserve,
    SettlePot,
)
from domain.balance.pots import SidePot, compute_side_pots
from domain.balance.types import PotStatus, ReservationStatus
from domain.errors import DomainError, ErrorCode
from tests.balance_support import (
    FakeClock,
    both_stores,  # noqa: F401  (each test on both stores)
    make_book,
)

PLAYERS = ("ann", "ben", "cat")


async def table(redis: aioredis.Redis) -> BalanceBook:
    book = make_book(redis, FakeClock())
    for player in PLAYERS:
        await book.accounts.credit(
            Credit(account_id=player, amount=1_000, idempotency_key=f"fund-{player}")
        )
    await book.accounts.ensure("house")
    await book.pots.create(CreatePot(table_id="t1", hand_id="h1"))
    return book


async def total_chips(book: BalanceBook) -> int:
    balances = [(await book.accounts.get_balance(p)).balance for p in (*PLAYERS, "house")]
    pot = await book.pots.get("t1", "h1")
    return sum(balances) + (pot.total if pot.status is PotStatus.OPEN else 0)


async def test_settle_side_pots_and_rake_conserves_chips(redis: aioredis.Redis) -> None:
    book = await table(redis)
    held = await book.reservations.reserve(
        Reserve(account_id="ann", amount=500, ttl_seconds=60, idempotency_key="r")
    )
    await book.pots.contribute(
        RecordContribution(
            table_id="t1",
            hand_id="h1",
            account_id="ann",
            amount=100,
            idempotency_key="b1",
            reservation_id=held.reservation.reservation_id,
        )
    )
    assert (await book.reservations.get(held.reservation.reservation_id)).status is (
        ReservationStatus.COMMITTED
    )
    await book.pots.contribute(
        RecordContribution(
            table_id="t1", hand_id="h1", account_id="ben", amount=300, idempotency_key="b2"
        )
    )
    await book.pots.contribute(
        RecordContribution(
            table_id="t1", hand_id="h1", account_id="cat", amount=300, idempotency_key="b3"
        )
    )
    pot = await book.pots.get("t1", "h1")
    assert pot.total == 700
    assert await total_chips(book) == 3_000
    side = compute_side_pots(pot.contributions, folded=set())
    assert [p.amount for p in side] == [300, 400]
    result = await book.pots.settle(
        SettlePot(
            table_id="t1",
            hand_id="h1",
            side_pots=[
                SidePot(side[0].amount - 10, ["ann"]),
                SidePot(side[1].amount, ["ben", "cat"]),
            ],
            rake=10,
            idempotency_key="s",
        )
    )
    assert result.payouts == {"ann": 290, "ben": 200, "cat": 200}
    assert result.pot.status is PotStatus.SETTLED
    assert (await book.accounts.get_balance("house")).balance == 10
    assert await total_chips(book) == 3_000
    assert not await redis.sismember(keys.active_pots("t1"), "t1:h1")
    with pytest.raises(DomainError) as twice:
        await book.pots.settle(
            SettlePot(
                table_id="t1", hand_id="h1", side_pots=[SidePot(700, ["ann"])], idempotency_key="s2"
            )
        )
    assert twice.value.code is ErrorCode.POT_ALREADY_SETTLED
    for player in (*PLAYERS, "house"):
        assert (await book.ledger.verify(player)).valid


async def test_a_settlement_that_does_not_add_up_moves_nothing(redis: aioredis.Redis) -> None:
    book = await table(redis)
    await book.pots.contribute(
        RecordContribution(
            table_id="t1", hand_id="h1", account_id="ann", amount=100, idempotency_key="b1"
        )
    )
    await book.pots.contribute(
        RecordContribution(
            table_id="t1", hand_id="h1", account_id="ben", amount=100, idempotency_key="b2"
        )
    )
    for side_pots, rake in (
        ([SidePot(150, ["ann"])], 0),
        ([SidePot(200, ["ann"])], 1),
        ([SidePot(200, ["cat"])], 0),
    ):
        with pytest.raises(DomainError) as refused:
            await book.pots.settle(
                SettlePot(
                    table_id="t1",
                    hand_id="h1",
                    side_pots=side_pots,
                    rake=rake,
                    idempotency_key=f"s{rake}{side_pots[0].winner_ids}",
                )
            )
        assert refused.value.code is ErrorCode.VALIDATION_FAILED
    assert (await book.pots.get("t1", "h1")).status is PotStatus.OPEN
    assert (await book.accounts.get_balance("ann")).balance == 900
    assert await total_chips(book) == 3_000


async def test_cancel_refunds_every_contribution(redis: aioredis.Redis) -> None:
    book = await table(redis)
    await book.pots.contribute(
        RecordContribution(
            table_id="t1", hand_id="h1", account_id="ann", amount=100, idempotency_key="b1"
        )
    )
    await book.pots.contribute(
        RecordContribution(
            table_id="t1", hand_id="h1", account_id="ann", amount=50, idempotency_key="b2"
        )
    )
    await book.pots.contribute(
        RecordContribution(
            table_id="t1", hand_id="h1", account_id="ben", amount=70, idempotency_key="b3"
        )
    )
    result = await book.pots.cancel(CancelPot(table_id="t1", hand_id="h1", idempotency_key="x"))
    assert result.payouts == {"ann": 150, "ben": 70}
    assert result.pot.status is PotStatus.CANCELLED
    assert [(await book.accounts.get_balance(p)).balance for p in PLAYERS] == [1_000] * 3
    with pytest.raises(DomainError) as late:
        await book.pots.contribute(
            RecordContribution(
                table_id="t1", hand_id="h1", account_id="cat", amount=1, idempotency_key="b4"
            )
        )
    assert late.value.code is ErrorCode.POT_ALREADY_SETTLED


async def test_contribution_errors(redis: aioredis.Redis) -> None:
    book = await table(redis)
    with pytest.raises(DomainError) as short:
        await book.pots.contribute(
            RecordContribution(
                table_id="t1", hand_id="h1", account_id="ann", amount=1_001, idempotency_key="a"
            )
        )
    assert short.value.code is ErrorCode.INSUFFICIENT_FUNDS
    with pytest.raises(DomainError) as no_pot:
        await book.pots.contribute(
            RecordContribution(
                table_id="t1", hand_id="h9", account_id="ann", amount=1, idempotency_key="b"
            )
        )
    assert no_pot.value.code is ErrorCode.NOT_FOUND
    held = await book.reservations.reserve(
        Reserve(account_id="ben", amount=50, ttl_seconds=60, idempotency_key="r")
    )
    with pytest.raises(DomainError) as other:
        await book.pots.contribute(
            RecordContribution(
                table_id="t1",
                hand_id="h1",
                account_id="ann",
                amount=10,
                idempotency_key="c",
                reservation_id=held.reservation.reservation_id,
            )
        )
    assert other.value.code is ErrorCode.VALIDATION_FAILED
    with pytest.raises(DomainError) as over:
        await book.pots.contribute(
            RecordContribution(
                table_id="t1",
                hand_id="h1",
                account_id="ben",
                amount=51,
                idempotency_key="d",
                reservation_id=held.reservation.reservation_id,
            )
        )
    assert over.value.code is ErrorCode.INSUFFICIENT_FUNDS
    pot, created = await book.pots.create(CreatePot(table_id="t1", hand_id="h1"))
    assert not created
    assert pot.total == 0
    assert await book.pots.active() == ["t1:h1"]
