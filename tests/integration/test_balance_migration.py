"""Data written with the layout before hash slots keeps working after `saga balance migrate-keys`.

tests/fixtures/balance_legacy_keys.json is every key an earlier version (d990394) wrote for a
small story: two wallets funded, a buy-in into a seat account, a hand settled with a rake, a
hand still open, a pending reservation and a debit. It is loaded as it was, migrated, and then
used: balances, ledgers, the open hand, the pending reservation and replays of old requests.
"""

from __future__ import annotations

import json
from pathlib import Path

import redis.asyncio as aioredis

from domain.balance.book import BalanceBook
from domain.balance.commands import (
    CommitReservation,
    Credit,
    RecordContribution,
    SettlePot,
)
from domain.balance.migration import migrate_keys
from domain.balance.pots import SidePot
from domain.balance.slots import supply_report
from tests.balance_support import FakeClock

FIXTURE = Path(__file__).parent.parent / "fixtures" / "balance_legacy_keys.json"
TABLE = "t0123456789"
SEAT = f"seat-{TABLE}-alice"


async def _load(redis: aioredis.Redis) -> None:
    for key, stored in json.loads(FIXTURE.read_text()).items():
        kind, value = stored["type"], stored["value"]
        if kind == "string":
            await redis.set(key, value)
        elif kind == "hash":
            await redis.hset(key, mapping=value)
        elif kind == "list":
            await redis.rpush(key, *value)
        elif kind == "set":
            await redis.sadd(key, *value)
        else:
            await redis.zadd(key, {member: score for member, score in value})


async def test_old_data_is_migrated_and_keeps_working(redis: aioredis.Redis) -> None:
    await _load(redis)
    report = await migrate_keys(redis)
    assert report.moved["transactions"] == 12
    assert report.moved["reservations"] == 2
    assert report.moved["open pots"] == 1
    again = await migrate_keys(redis)
    assert again.lines() == ["nothing to migrate: the data is in the slot layout already"]
    # The scripts' clock a second after the story was written: its reservation still runs.
    story = json.loads(FIXTURE.read_text())
    hold = json.loads(story["balance:reservations:{hold-bob}"]["value"])
    book = BalanceBook.build(redis, clock=FakeClock(int(hold["created_at_ms"]) + 1_000))
    balances = {a: (await book.accounts.get_balance(a)).balance for a in ("alice", SEAT, "bob")}
    assert balances == {"alice": 700, SEAT: 328, "bob": 435}
    assert (await book.accounts.get_balance("house")).balance == 2
    for account in ("alice", SEAT, "bob", "house"):
        assert (await book.ledger.verify(account)).valid, account
    assert len(await book.accounts.transactions(SEAT)) == 4
    assert await book.pots.active() == [f"{TABLE}:{TABLE}-h2"]
    assert [r.reservation_id for r in await book.reservations.active("bob")] == ["hold-bob"]
    # Old requests sent again replay their answers: nothing moves twice.
    replayed = await book.accounts.credit(
        Credit(account_id="alice", amount=1000, idempotency_key="fund-alice")
    )
    assert replayed.replayed
    buy_in = await book.reservations.commit(
        CommitReservation(
            reservation_id="buyin-t0123456789-alice-1",
            to_account_id=SEAT,
            source="BUY_IN",
            idempotency_key="buyin-t0123456789-alice-1-commit",
        )
    )
    assert buy_in.replayed
    settled = await book.pots.settle(
        SettlePot(
            table_id=TABLE,
            hand_id=f"{TABLE}-h1",
            side_pots=[SidePot(amount=78, winner_ids=[SEAT])],
            rake=2,
            idempotency_key="settle-1",
        )
    )
    assert settled.replayed
    assert [a.account_id for a in settled.accounts] == [SEAT, "house"]
    # The open hand and the pending reservation go on in the new layout.
    await book.pots.contribute(
        RecordContribution(
            table_id=TABLE,
            hand_id=f"{TABLE}-h2",
            account_id="bob",
            amount=10,
            idempotency_key="bet-4",
        )
    )
    await book.pots.settle(
        SettlePot(
            table_id=TABLE,
            hand_id=f"{TABLE}-h2",
            side_pots=[SidePot(amount=20, winner_ids=["bob"])],
            rake=0,
            idempotency_key="settle-2",
        )
    )
    committed = await book.reservations.commit(
        CommitReservation(reservation_id="hold-bob", idempotency_key="spend-bob")
    )
    assert committed.reservation.committed_amount == 60
    report_after = await supply_report(redis)
    assert report_after.balanced
    assert report_after.in_flight == 0
    assert report_after.counted == 1_500 - 25 - 60
