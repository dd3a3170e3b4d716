"""The balance book on a real 3-master Valkey Cluster, and moves between slots that a fault
interrupts: nothing is lost, nothing applies twice, the supply holds at every moment.

Every script touches one slot (a cluster refuses anything else with CROSSSLOT); a move between
accounts of two slots (a buy-in into a seat, the rake to the house, a bet from a wallet, a
cash-out) is the source's script plus a delivery, and a straggler sweep finishes what a
failed call left.
"""

from __future__ import annotations

import pytest

from domain.balance import keys
from domain.balance.book import BalanceBook
from domain.balance.commands import (
    CancelPot,
    CommitReservation,
    CreatePot,
    Credit,
    Debit,
    RecordContribution,
    Reserve,
    SettlePot,
)
from domain.balance.pots import SidePot
from domain.balance.scripts import BalanceScripts
from domain.balance.slots import listed_slots, supply_report
from domain.balance.stragglers import deliver_stragglers
from domain.errors import DomainError, ErrorCode, Unavailable
from infra.redis import RedisClient
from tests.balance_support import (
    FakeClock,
    both_stores,  # noqa: F401  (each test on one Valkey and on the cluster)
)

TABLE = "t0123456789"
SEAT = f"seat-{TABLE}-amy"


def _book(redis: RedisClient, clock: FakeClock) -> BalanceBook:
    return BalanceBook.build(redis, clock=clock)


async def test_the_poker_money_flow_runs_slot_by_slot(redis: RedisClient) -> None:
    book = _book(redis, FakeClock())
    # The wallet, the house and the table are three homes; on the cluster, three masters.
    assert len({keys.slot_of(h) for h in ("amy", "house", TABLE)}) == 3
    await book.accounts.credit(Credit(account_id="amy", amount=1_000, idempotency_key="fund"))
    await book.accounts.credit(Credit(account_id="bob", amount=1_000, idempotency_key="fund"))
    # Buy-in: reserve in the wallet, commit into the seat (another slot: owed, then delivered).
    await book.reservations.reserve(
        Reserve(
            account_id="amy", amount=400, ttl_seconds=60, idempotency_key="b1", reservation_id="b1"
        )
    )
    seated = await book.reservations.commit(
        CommitReservation(
            reservation_id="b1", to_account_id=SEAT, source="BUY_IN", idempotency_key="b1c"
        )
    )
    assert seated.to_account is not None
    assert seated.to_account.balance == 400
    assert (await book.accounts.get_balance("amy")).balance == 600
    again = await book.reservations.commit(
        CommitReservation(
            reservation_id="b1", to_account_id=SEAT, source="BUY_IN", idempotency_key="b1c"
        )
    )
    assert again.replayed
    assert (await book.accounts.get_balance(SEAT)).balance == 400
    # A hand: the seat bets in its own slot, bob's wallet from another; the rake to the house.
    await book.pots.create(CreatePot(table_id=TABLE, hand_id="h1"))
    for account, key in ((SEAT, "s"), ("bob", "w")):
        put = await book.pots.contribute(
            RecordContribution(
                table_id=TABLE, hand_id="h1", account_id=account, amount=100, idempotency_key=key
            )
        )
    assert put.pot.total == 200
    settled = await book.pots.settle(
        SettlePot(
            table_id=TABLE,
            hand_id="h1",
            side_pots=[SidePot(amount=195, winner_ids=["bob"])],
            rake=5,
            idempotency_key="settle",
        )
    )
    assert [(a.account_id, a.balance) for a in settled.accounts] == [("bob", 1_095), ("house", 5)]
    # A cancelled hand gives each contribution back, across slots too.
    await book.pots.create(CreatePot(table_id=TABLE, hand_id="h2"))
    for account, key in ((SEAT, "s2"), ("bob", "w2")):
        await book.pots.contribute(
            RecordContribution(
                table_id=TABLE, hand_id="h2", account_id=account, amount=10, idempotency_key=key
            )
        )
    cancelled = await book.pots.cancel(CancelPot(table_id=TABLE, hand_id="h2", idempotency_key="x"))
    assert cancelled.payouts == {SEAT: 10, "bob": 10}
    # Cash-out: the seat's stack back to the wallet.
    await book.reservations.reserve(
        Reserve(
            account_id=SEAT, amount=300, ttl_seconds=60, idempotency_key="o", reservation_id="o1"
        )
    )
    await book.reservations.commit(
        CommitReservation(
            reservation_id="o1", to_account_id="amy", source="CASH_OUT", idempotency_key="oc"
        )
    )
    assert [(await book.accounts.get_balance(a)).balance for a in ("amy", SEAT, "bob")] == [
        900,
        0,
        1_095,
    ]
    report = await supply_report(redis)
    assert (report.counted, report.held, report.in_flight) == (2_000, 2_000, 0)
    for account in ("amy", SEAT, "bob", "house"):
        assert (await book.ledger.verify(account)).valid
    assert len(await listed_slots(redis)) >= 3


async def test_a_bet_into_a_pot_that_closed_comes_back(redis: RedisClient) -> None:
    book = _book(redis, FakeClock())
    await book.accounts.credit(Credit(account_id="bob", amount=100, idempotency_key="fund"))
    await book.pots.create(CreatePot(table_id=TABLE, hand_id="h"))
    # Prepared (the pot was open when checked), then the pot is cancelled before it runs.
    step = await book.pots.prepare_contribution(
        RecordContribution(
            table_id=TABLE, hand_id="h", account_id="bob", amount=40, idempotency_key="late"
        )
    )
    await book.pots.cancel(CancelPot(table_id=TABLE, hand_id="h", idempotency_key="x"))
    with pytest.raises(DomainError) as refused:
        await book.scripts.perform(step)
    assert refused.value.code is ErrorCode.POT_ALREADY_SETTLED
    assert (await book.accounts.get_balance("bob")).balance == 100
    assert (await book.pots.get(TABLE, "h")).total == 0
    assert (await supply_report(redis)).balanced


async def test_a_move_cut_off_midway_is_finished_by_the_sweep_once(
    redis: RedisClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    clock = FakeClock()
    book = _book(redis, clock)
    await book.accounts.credit(Credit(account_id="amy", amount=500, idempotency_key="fund"))
    await book.reservations.reserve(
        Reserve(
            account_id="amy", amount=200, ttl_seconds=60, idempotency_key="r", reservation_id="r1"
        )
    )
    deliver = BalanceScripts.deliver

    async def lost(self: BalanceScripts, tag: str, owed: list[dict[str, object]]) -> object:
        raise Unavailable("Redis went away after the source's script")

    monkeypatch.setattr(BalanceScripts, "deliver", lost)
    with pytest.raises(Unavailable):
        await book.reservations.commit(
            CommitReservation(reservation_id="r1", to_account_id=SEAT, idempotency_key="c")
        )
    # Taken from the wallet, not yet in the seat: in flight, and the supply still adds up.
    midway = await supply_report(redis)
    assert (midway.counted, midway.held, midway.in_flight) == (500, 300, 200)
    assert midway.balanced
    monkeypatch.setattr(BalanceScripts, "deliver", deliver)
    assert await deliver_stragglers(book.scripts, min_age_ms=5_000, now_ms=clock.now_ms) == 0
    clock.advance(10)
    assert await deliver_stragglers(book.scripts, now_ms=clock.now_ms) == 1
    assert await deliver_stragglers(book.scripts, now_ms=clock.now_ms) == 0
    # The caller's retry replays the commit and the delivery: still one credit.
    retried = await book.reservations.commit(
        CommitReservation(reservation_id="r1", to_account_id=SEAT, idempotency_key="c")
    )
    assert retried.replayed
    assert retried.to_account is not None
    assert retried.to_account.balance == 200
    assert [(await book.accounts.get_balance(a)).balance for a in ("amy", SEAT)] == [300, 200]
    assert len(await book.accounts.transactions(SEAT)) == 1
    done = await supply_report(redis)
    assert (done.counted, done.held, done.in_flight) == (500, 500, 0)


async def test_the_economy_and_the_sweeps_read_every_slot(redis: RedisClient) -> None:
    clock = FakeClock()
    book = _book(redis, clock)
    names = [f"acct{n}" for n in range(12)]
    for name in names:
        await book.accounts.credit(Credit(account_id=name, amount=10, idempotency_key="f"))
        await book.reservations.reserve(
            Reserve(account_id=name, amount=4, ttl_seconds=5, idempotency_key="r")
        )
    await book.accounts.debit(Debit(account_id="acct0", amount=6, idempotency_key="d"))
    supply, _ = await book.economy.sample()
    assert supply == 12 * 10 - 6
    cursor, seen = await book.ledger.account_page(0, 5)
    while cursor:
        cursor, more = await book.ledger.account_page(cursor, 5)
        seen += more
    assert sorted(seen) == sorted(names)
    clock.advance(10)
    swept = await book.expiry.expire_due()
    assert (len(swept.expired), swept.remaining) == (12, 0)
    assert [(await book.accounts.get_balance(n)).reserved for n in names] == [0] * 12
    # Twelve accounts fall in twelve slots, spread over the masters on the cluster.
    assert len({keys.slot_of(n) for n in names}) == 12
    assert set(await listed_slots(redis)) >= {keys.slot_of(n) for n in names}
