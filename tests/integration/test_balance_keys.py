"""Every key a balance script touches comes in its KEYS, built by domain/balance/keys.py.

The scripts run here with `redis.call` wrapped so that a key not in KEYS fails the call, as a
Redis Cluster would refuse it; then every script is driven through its paths. The reads a
caller makes to name its keys (a reservation's holder, a pot's contributors) can be overtaken
by a concurrent change: the script then changes nothing and the caller reads again.
"""

from __future__ import annotations

import re
from importlib import resources

import pytest
import redis.asyncio as aioredis
from redis.crc import key_slot

from domain.balance import keys, scripts
from domain.balance.batch import prepare_batch
from domain.balance.book import BalanceBook
from domain.balance.commands import (
    CancelPot,
    CommitReservation,
    CreatePot,
    Credit,
    Debit,
    RecordContribution,
    ReleaseReservation,
    Reserve,
    SettlePot,
)
from domain.balance.pipelining import ScriptCall
from domain.balance.pots import SidePot
from domain.balance.replies import text
from domain.balance.requests import ScriptRequest
from domain.balance.types import PotStatus, ReservationStatus
from domain.errors import DomainError, ErrorCode
from tests.balance_support import (
    FakeClock,
    both_stores,  # noqa: F401  (each test on both stores)
)

# Commands that take no key; every other command these scripts use takes its key first.
_GUARD = """
local real_redis = redis
local declared = {}
for _, key in ipairs(KEYS) do declared[key] = true end
local redis = setmetatable({
  call = function(command, key, ...)
    if command ~= "TIME" and command ~= "PUBLISH" and not declared[key] then
      error("UNDECLARED " .. command .. " " .. tostring(key))
    end
    return real_redis.call(command, key, ...)
  end,
}, { __index = real_redis })
"""


@pytest.fixture
def guarded(monkeypatch: pytest.MonkeyPatch) -> None:
    """Build books whose scripts refuse any key not declared in KEYS, or of two hash slots."""
    plain = scripts.script_source
    monkeypatch.setattr(scripts, "script_source", lambda op: _GUARD + plain(op))
    framed = scripts.BalanceScripts._call

    def one_slot(self: scripts.BalanceScripts, request: ScriptRequest) -> ScriptCall:
        call = framed(self, request)
        slots = {key_slot(key.encode()) for key in call.keys}
        assert len(slots) == 1, f"{request.operation} touches slots {slots}: {call.keys}"
        return call

    monkeypatch.setattr(scripts.BalanceScripts, "_call", one_slot)


def _book(redis: aioredis.Redis, clock: FakeClock) -> BalanceBook:
    return BalanceBook.build(redis, clock=clock)


def test_no_script_names_a_key() -> None:
    for script in (resources.files("domain.balance") / "lua").iterdir():
        assert '"balance:' not in script.read_text(), script.name


async def test_every_script_touches_only_its_keys(redis: aioredis.Redis, guarded: None) -> None:
    clock = FakeClock()
    book = _book(redis, clock)
    await book.accounts.ensure("ann")
    await book.accounts.credit(Credit(account_id="ann", amount=1_000, idempotency_key="c1"))
    await book.accounts.credit(Credit(account_id="ben", amount=1_000, idempotency_key="c2"))
    await book.accounts.debit(Debit(account_id="ben", amount=100, idempotency_key="d1"))
    reserve = book.reservations.reserve
    held = await reserve(
        Reserve(account_id="ann", amount=300, ttl_seconds=60, idempotency_key="r1")
    )
    rid = held.reservation.reservation_id
    await book.reservations.commit(
        CommitReservation(reservation_id=rid, amount=100, idempotency_key="k1")
    )
    await reserve(
        Reserve(
            account_id="ann", amount=50, ttl_seconds=60, idempotency_key="r2", reservation_id="a2"
        )
    )
    moved = await book.reservations.commit(
        CommitReservation(reservation_id="a2", idempotency_key="k2", to_account_id="seat-ann")
    )
    assert moved.to_account is not None
    assert moved.to_account.balance == 50
    await reserve(
        Reserve(
            account_id="ann", amount=10, ttl_seconds=60, idempotency_key="r3", reservation_id="a3"
        )
    )
    await book.reservations.release(ReleaseReservation(reservation_id="a3", idempotency_key="l1"))
    await reserve(
        Reserve(
            account_id="ben", amount=10, ttl_seconds=5, idempotency_key="r4", reservation_id="b4"
        )
    )
    await reserve(
        Reserve(
            account_id="ben", amount=10, ttl_seconds=5, idempotency_key="r5", reservation_id="b5"
        )
    )
    await reserve(
        Reserve(
            account_id="ann", amount=10, ttl_seconds=5, idempotency_key="r6", reservation_id="a6"
        )
    )
    await reserve(
        Reserve(
            account_id="ann", amount=10, ttl_seconds=5, idempotency_key="r7", reservation_id="a7"
        )
    )
    clock.advance(10)
    with pytest.raises(DomainError) as late:
        await book.reservations.commit(CommitReservation(reservation_id="b4", idempotency_key="k3"))
    assert late.value.code is ErrorCode.RESERVATION_EXPIRED
    released = await book.reservations.release(
        ReleaseReservation(reservation_id="b5", idempotency_key="l2")
    )
    assert released.reservation.status is ReservationStatus.EXPIRED
    swept = await book.expiry.expire_due()
    assert (swept.expired, swept.remaining) == (["a6", "a7"], 0)
    await book.pots.create(CreatePot(table_id="t", hand_id="h"))
    await reserve(
        Reserve(
            account_id="ben", amount=5, ttl_seconds=5, idempotency_key="r8", reservation_id="b8"
        )
    )
    clock.advance(10)
    with pytest.raises(DomainError) as foreign:
        await book.pots.contribute(
            RecordContribution(
                table_id="t",
                hand_id="h",
                account_id="ann",
                amount=1,
                idempotency_key="p0",
                reservation_id="b8",
            )
        )
    assert foreign.value.code is ErrorCode.VALIDATION_FAILED
    with pytest.raises(DomainError) as expired:
        await book.pots.contribute(
            RecordContribution(
                table_id="t",
                hand_id="h",
                account_id="ben",
                amount=1,
                idempotency_key="p1",
                reservation_id="b8",
            )
        )
    assert expired.value.code is ErrorCode.RESERVATION_EXPIRED
    await reserve(
        Reserve(
            account_id="ben", amount=40, ttl_seconds=60, idempotency_key="r9", reservation_id="b9"
        )
    )
    for n, (player, reservation_id) in enumerate((("ann", ""), ("ben", "b9"))):
        await book.pots.contribute(
            RecordContribution(
                table_id="t",
                hand_id="h",
                account_id=player,
                amount=40,
                idempotency_key=f"p{n + 2}",
                reservation_id=reservation_id,
            )
        )
    settled = await book.pots.settle(
        SettlePot(
            table_id="t",
            hand_id="h",
            side_pots=[SidePot(75, ["ben"])],
            rake=5,
            idempotency_key="s1",
            house_account_id="new-house",
        )
    )
    assert settled.payouts == {"ben": 75}
    await book.pots.create(CreatePot(table_id="t", hand_id="h2"))
    await book.pots.contribute(
        RecordContribution(
            table_id="t", hand_id="h2", account_id="ann", amount=7, idempotency_key="p4"
        )
    )
    cancelled = await book.pots.cancel(CancelPot(table_id="t", hand_id="h2", idempotency_key="x1"))
    assert cancelled.payouts == {"ann": 7}
    for account in ("ann", "ben", "seat-ann", "new-house"):
        assert (await book.ledger.verify(account)).valid
    # The keys the scripts were given are the ones keys.py names, and only those.
    named = _key_names()
    assert [k for k in [text(k) async for k in redis.scan_iter()] if not named.fullmatch(k)] == []


def _key_names() -> re.Pattern[str]:
    """Every key name keys.py gives, with any id (or slot tag) in place of each."""
    any_id, seat = "\x00", "seat-\x00-\x01"
    names = [
        keys.SLOTS,
        keys.pot(any_id, any_id),
        keys.transaction(any_id, any_id).replace(keys.slot_tag(keys.slot_of(any_id)), any_id),
        keys.reservation(any_id, any_id),
        keys.reservation_holder(any_id),
        keys.idempotency(any_id, any_id),
        *(
            name(account)
            for account in (any_id, seat)
            for name in (
                keys.account,
                keys.account_transactions,
                keys.account_reservations,
                keys.ledger,
                keys.ledger_head,
                keys.ledger_checkpoint,
            )
        ),
        *(
            name(any_id).replace(keys.slot_tag(keys.slot_of(any_id)), any_id)
            for name in (
                keys.account_ids,
                keys.reservation_expiry,
                keys.active_pots,
                keys.economy,
                keys.outbox,
            )
        ),
    ]
    some_id = "[A-Za-z0-9_.:-]+"
    pattern = "|".join(
        re.escape(n).replace(re.escape("\x00"), some_id).replace(re.escape("\x01"), some_id)
        for n in names
    )
    return re.compile(pattern)


async def test_a_holder_is_found_by_a_process_that_never_saw_it(
    redis: aioredis.Redis, guarded: None
) -> None:
    book = _book(redis, FakeClock())
    await book.accounts.credit(Credit(account_id="ann", amount=100, idempotency_key="c1"))
    await book.reservations.reserve(
        Reserve(
            account_id="ann", amount=60, ttl_seconds=60, idempotency_key="r", reservation_id="x"
        )
    )
    # Another instance of the service: its cache is empty, the reservation's locator is not.
    other = _book(redis, FakeClock())
    done = await other.reservations.commit(
        CommitReservation(reservation_id="x", idempotency_key="k")
    )
    assert (done.account.account_id, done.account.balance) == ("ann", 40)
    assert other.reservations.holders.known("x") == "ann"
    # Nobody else may take that reservation id.
    await book.accounts.credit(Credit(account_id="ben", amount=100, idempotency_key="c2"))
    with pytest.raises(DomainError) as taken:
        await other.reservations.reserve(
            Reserve(
                account_id="ben", amount=5, ttl_seconds=60, idempotency_key="r2", reservation_id="x"
            )
        )
    assert taken.value.code is ErrorCode.ALREADY_EXISTS
    assert (await book.accounts.get_balance("ben")).reserved == 0


async def test_a_contribution_after_the_read_is_refunded_too(
    redis: aioredis.Redis, guarded: None
) -> None:
    book = _book(redis, FakeClock())
    for player in ("ann", "ben"):
        await book.accounts.credit(Credit(account_id=player, amount=100, idempotency_key=player))
    await book.pots.create(CreatePot(table_id="t", hand_id="h"))
    put = book.pots.contribute
    await put(
        RecordContribution(
            table_id="t", hand_id="h", account_id="ann", amount=10, idempotency_key="a"
        )
    )
    step = await book.pots.prepare_cancel(CancelPot(table_id="t", hand_id="h", idempotency_key="x"))
    await put(
        RecordContribution(
            table_id="t", hand_id="h", account_id="ben", amount=20, idempotency_key="b"
        )
    )
    result = await book.scripts.perform(step)
    assert result.payouts == {"ann": 10, "ben": 20}
    assert result.pot.status is PotStatus.CANCELLED
    assert [(await book.accounts.get_balance(p)).balance for p in ("ann", "ben")] == [100, 100]


async def test_a_batch_step_whose_reservation_appeared_runs_after_the_rest(
    redis: aioredis.Redis, guarded: None
) -> None:
    book = _book(redis, FakeClock())
    for player in ("ann", "ben"):
        await book.accounts.credit(Credit(account_id=player, amount=100, idempotency_key=player))
    steps = await prepare_batch(
        book,
        [
            CommitReservation(reservation_id="late", idempotency_key="k"),
            Debit(account_id="ann", amount=5, idempotency_key="d"),
        ],
    )
    # Another caller makes the reservation after the batch read that it did not exist.
    other = _book(redis, FakeClock())
    await other.reservations.reserve(
        Reserve(
            account_id="ben", amount=30, ttl_seconds=60, idempotency_key="r", reservation_id="late"
        )
    )
    committed, debited = await book.scripts.perform_in_order(steps)
    assert not isinstance(committed, DomainError)
    assert not isinstance(debited, DomainError)
    assert (committed.account.account_id, committed.account.balance) == ("ben", 70)
    assert debited.account.balance == 95
