"""A Hypothesis state machine over real Valkey, checked call by call against an exact model.

Before every call `tests/balance_model.py` decides its answer: a success with its exact figures
(balances, reservation, pot, payouts) or the exact refusal code, and whether it is a replay.
After every step every account, reservation and pot equals the model, chips are conserved,
nothing is negative, each ledger holds one entry per transaction and every changed chain verifies.

Sized by the `balance-ci` profile (the default) or, with `SAGA_HYPOTHESIS_PROFILE=nightly`,
`balance-nightly`; prefixed so that Hypothesis's own `ci` profile stays as it is.
"""

from __future__ import annotations

import asyncio
import json
import os
from collections.abc import Awaitable
from typing import ClassVar, TypeVar

import pytest
import redis.asyncio as aioredis
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from domain.balance import keys
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
from domain.balance.pots import SidePot
from domain.balance.slots import supply_report
from domain.balance.types import Pot, PotStatus, Reservation, ReservationStatus
from domain.errors import DomainError
from infra.redis import connect_redis
from saga.stack.valkey_cluster import EmbeddedValkeyCluster
from tests.balance_model import (
    HOUSE,
    BalanceModel,
    Command,
    Outcome,
    account_view,
    outcome_of,
    perform,
    pot_view,
    reservation_view,
)
from tests.balance_support import STORES, FakeClock, make_book
from tests.conftest import SessionStack

settings.register_profile(
    "balance-ci", max_examples=200, stateful_step_count=75, deadline=None, print_blob=True
)
settings.register_profile(
    "balance-nightly", max_examples=1000, stateful_step_count=100, deadline=None, print_blob=True
)
PROFILE = settings.get_profile(f"balance-{os.environ.get('SAGA_HYPOTHESIS_PROFILE', 'ci')}")

T = TypeVar("T")
TABLE = "t"
# The seat account lives in the table's slot, the others in slots of their own: pot moves
# take both paths, one script and the outbox (keys.py).
OPENED = ("p1", "p2", "seat-t-p3", HOUSE)
ACCOUNTS = ("p1", "p2", "seat-t-p3", "p4")  # p4 is opened by its first credit or transfer
DEPOSIT = 1000  # each player's first credit, made before the first step
# Chips (0 is refused before Redis), or all the account has available, or one chip more.
amounts = st.integers(0, 600) | st.sampled_from(("all", "over"))
seldom = st.sampled_from((False, False, False, True))


class BalanceMachine(RuleBasedStateMachine):
    """Credits, debits, reservations, pots, replays and time, against one Valkey and the model."""

    # One loop and one client for every example (new connections are slow); set by the test.
    loop: ClassVar[asyncio.AbstractEventLoop]
    redis: ClassVar[aioredis.Redis]

    def __init__(self) -> None:
        super().__init__()
        self.run(self.redis.flushdb())
        self.clock = FakeClock()
        self.book = make_book(self.redis, self.clock)
        for account_id in OPENED:
            self.run(self.book.accounts.ensure(account_id))
        self.model = BalanceModel(self.clock, OPENED)
        self.sent: list[Command] = []
        self.counter = 0
        self.hand = 0
        self.verified: dict[str, int] = {}  # account: version its chain was verified at
        for account_id in OPENED[:3]:
            self.check(
                Credit(account_id=account_id, amount=DEPOSIT, idempotency_key=f"d-{account_id}")
            )

    def run(self, work: Awaitable[T]) -> T:
        """Run a coroutine on the machine's own loop."""
        return self.loop.run_until_complete(work)

    def fresh(self, prefix: str) -> str:
        """A new idempotency key or reservation id."""
        self.counter += 1
        return f"{prefix}{self.counter}"

    def check(self, command: Command) -> None:
        """The model decides the answer, the book gives it; they must be the same."""
        expected = self.model.call(command)
        self.sent.append(command)
        try:
            result = self.run(perform(self.book, command))
            got = (outcome_of(result), result.replayed)
        except DomainError as refusal:
            got = (Outcome(code=refusal.code), bool(refusal.fields.get("replayed", False)))
        assert got == expected, f"{command}\n  book:  {got}\n  model: {expected}"

    def some_reservation(self, data: st.DataObject) -> str:
        """Any reservation the model knows, or one that does not exist."""
        return data.draw(st.sampled_from([*sorted(self.model.reservations), "r-none"]))

    def chips(self, account_id: str, amount: int | str) -> int:
        """`amount` in chips: "all" and "over" are the account's available (+ 1) in the model."""
        if isinstance(amount, int):
            return amount
        account = self.model.accounts.get(account_id)
        return (account.available if account else 0) + (1 if amount == "over" else 0)

    def part_of(self, data: st.DataObject, reservation_id: str) -> int:
        """An amount to take from the reservation: 0 (all) up to one chip too many."""
        held = self.model.reservations.get(reservation_id)
        return data.draw(st.integers(0, held.amount + 1 if held else 600))

    def pot_is_open(self) -> bool:
        """Whether the model has an open pot (there is at most one)."""
        return any(p.status is PotStatus.OPEN for p in self.model.pots.values())

    @rule(account=st.sampled_from(ACCOUNTS), amount=st.integers(0, DEPOSIT))
    def credit(self, account: str, amount: int) -> None:
        self.check(Credit(account_id=account, amount=amount, idempotency_key=self.fresh("k")))

    @rule(account=st.sampled_from(ACCOUNTS), amount=amounts)
    def debit(self, account: str, amount: int | str) -> None:
        chips, key = self.chips(account, amount), self.fresh("k")
        self.check(Debit(account_id=account, amount=chips, idempotency_key=key))

    @rule(
        data=st.data(),
        account=st.sampled_from(ACCOUNTS),
        amount=amounts,
        ttl=st.integers(1, 30),
        reuse_id=seldom,
    )
    def reserve(
        self, data: st.DataObject, account: str, amount: int | str, ttl: int, reuse_id: bool
    ) -> None:
        rid = self.some_reservation(data) if reuse_id else self.fresh("r")
        key = self.fresh("k")
        self.check(
            Reserve(
                account_id=account,
                amount=self.chips(account, amount),
                ttl_seconds=ttl,
                idempotency_key=key,
                reservation_id=rid,
            )
        )

    @precondition(lambda self: self.model.reservations)
    @rule(data=st.data(), to=st.sampled_from(("", "", "", *ACCOUNTS)))
    def commit(self, data: st.DataObject, to: str) -> None:
        """Commit all (0) or part of a reservation, out of the book or to another account."""
        rid, key = self.some_reservation(data), self.fresh("k")
        part = self.part_of(data, rid)
        self.check(
            CommitReservation(
                reservation_id=rid, amount=part, to_account_id=to, idempotency_key=key
            )
        )

    @precondition(lambda self: self.model.reservations)
    @rule(data=st.data())
    def release(self, data: st.DataObject) -> None:
        rid = self.some_reservation(data)
        self.check(ReleaseReservation(reservation_id=rid, idempotency_key=self.fresh("k")))

    @rule(data=st.data(), other=seldom, amount=st.integers(0, DEPOSIT))
    def replay(self, data: st.DataObject, other: bool, amount: int) -> None:
        """A request sent again answers as the first time and moves nothing; `other`: another
        request under a used key, refused (unless it happens to be the same request)."""
        if not other:
            self.check(data.draw(st.sampled_from(self.sent)))
            return
        home, key = data.draw(st.sampled_from(sorted(self.model.answers)))
        # A credit that runs in the same home: the account itself, or the table's seat.
        account = next(a for a in (*ACCOUNTS, HOUSE) if keys.home(a) == home)
        self.check(Credit(account_id=account, amount=amount, idempotency_key=key))

    @rule(seconds=st.integers(0, 20), sweep=st.booleans())
    def time_passes(self, seconds: int, sweep: bool) -> None:
        """The clock moves; `sweep`: then the expiry sweep runs."""
        self.clock.advance(seconds)
        if not sweep:
            return
        batch = self.run(self.book.expiry.expire_due())
        got = (sorted(batch.expired), tuple(account_view(a) for a in batch.accounts))
        assert batch.remaining == 0
        assert got == self.model.expire_due()

    def create_pot(self, hand_id: str) -> None:
        """Open the hand's pot; new or not, as the model says."""
        pot, created = self.run(self.book.pots.create(CreatePot(table_id=TABLE, hand_id=hand_id)))
        assert (pot_view(pot), created) == self.model.create_pot(hand_id)

    @precondition(lambda self: not self.pot_is_open())
    @rule(again=seldom)
    def open_pot(self, again: bool) -> None:
        """Open the next hand's pot; `again`: open the last, closed, one again (no change)."""
        if not (again and self.hand):
            self.hand += 1
        self.create_pot(f"h{self.hand}")

    @precondition(lambda self: self.hand > 0)
    @rule(
        data=st.data(),
        account=st.sampled_from(ACCOUNTS),
        amount=amounts,
        source=st.sampled_from(("balance", "balance", "own", "any")),
        back=st.sampled_from((0, 0, 0, 1, -1)),
    )
    def bet(
        self, data: st.DataObject, account: str, amount: int | str, source: str, back: int
    ) -> None:
        """A bet on this hand (or the previous or a missing one), from the balance or a hold."""
        hand_id = f"h{self.hand - back}"
        rid, chips = "", self.chips(account, amount)
        if source == "own":
            mine = self.model.reservations.values()
            pending = [
                r for r in mine if r.account_id == account and r.status is ReservationStatus.PENDING
            ]
            rid = pending[0].reservation_id if pending else ""
            chips = self.part_of(data, rid) if rid else chips
        elif source == "any":
            rid = self.some_reservation(data)
        key = self.fresh("k")
        self.check(
            RecordContribution(
                table_id=TABLE,
                hand_id=hand_id,
                account_id=account,
                amount=chips,
                idempotency_key=key,
                reservation_id=rid,
            )
        )

    @precondition(lambda self: self.hand > 0)
    @rule(
        data=st.data(),
        cancel=seldom,
        rake_percent=st.integers(0, 10),
        off_by=st.sampled_from((0, 0, 0, 1, -1)),
        stray=seldom,
    )
    def finish_hand(
        self, data: st.DataObject, cancel: bool, rake_percent: int, off_by: int, stray: bool
    ) -> None:
        """Settle (main pot to the winners, a side pot to the last) or cancel this hand's pot.

        `off_by` makes the payouts miss the pot; `stray` adds a winner who did not bet.
        """
        hand_id, key = f"h{self.hand}", self.fresh("k")
        if cancel:
            self.check(CancelPot(table_id=TABLE, hand_id=hand_id, idempotency_key=key))
            return
        pot = self.model.pots[hand_id]
        bettors = sorted(pot.contributions)
        winners = (
            data.draw(st.lists(st.sampled_from(bettors), min_size=1, max_size=3, unique=True))
            if bettors
            else []
        )
        if stray:
            winners += [a for a in ACCOUNTS if a not in pot.contributions][:1]
        rake = pot.total * rake_percent // 100
        paid = max(pot.total - rake + off_by, 0)
        main = data.draw(st.integers(0, paid))
        sides = [SidePot(main, winners), SidePot(paid - main, winners[-1:])]
        self.check(
            SettlePot(
                table_id=TABLE, hand_id=hand_id, side_pots=sides, rake=rake, idempotency_key=key
            )
        )

    @invariant()
    def book_matches_model(self) -> None:
        """Every account, reservation and pot equals the model, read in one round trip;
        unopened accounts do not exist; nothing is negative; chips are conserved (the economy's
        supply too); each ledger holds one entry per version, and changed chains verify."""
        self.run(self.compare_with_model())

    async def compare_with_model(self) -> None:
        """The invariant, on one turn of the loop."""
        model, names = self.model, (*ACCOUNTS, HOUSE)
        async with self.redis.pipeline(transaction=False) as pipe:
            for account_id in names:
                pipe.hmget(keys.account(account_id), ["balance", "reserved", "version"])
                pipe.llen(keys.ledger(account_id))
            for held in model.reservations.values():
                pipe.get(keys.reservation(held.account_id, held.reservation_id))
            for hand_id in model.pots:
                pipe.get(keys.pot(TABLE, hand_id))
            pipe.smembers(keys.active_pots(TABLE))
            *figures, active = await pipe.execute()
        held_end = 2 * len(names) + len(model.reservations)
        raw_holds, raw_pots = figures[2 * len(names) : held_end], figures[held_end:]
        figures = figures[: 2 * len(names)]
        report = await supply_report(self.redis)
        assert report.in_flight == 0, "a credit owed to another slot was not delivered"
        supply = report.counted
        in_book = 0
        for account_id, (balance, reserved, version), length in zip(
            names, figures[::2], figures[1::2], strict=True
        ):
            want = model.accounts.get(account_id)
            got = None if balance is None else (int(balance), int(reserved), int(version))
            assert got == (want.view()[1:] if want else None), f"{account_id}: figures"
            assert length == (want.version if want else 0), f"{account_id}: ledger length"
            if got is not None:
                assert 0 <= got[1] <= got[0], f"{account_id}: negative reserved or available"
                in_book += got[0]
        holds = [reservation_view(Reservation.from_json(json.loads(r))) for r in raw_holds if r]
        assert holds == [r.view() for r in model.reservations.values()]
        pots = [Pot.from_json(json.loads(raw)) for raw in raw_pots if raw]
        assert [pot_view(p) for p in pots] == [p.view() for p in model.pots.values()]
        open_pots = [p for p in pots if p.status is PotStatus.OPEN]
        assert {a.decode() for a in active} == {f"{TABLE}:{p.hand_id}" for p in open_pots}
        in_book += sum(p.total for p in open_pots)
        assert in_book == model.outside, "chips are not conserved"
        assert int(supply or 0) == model.outside, "the economy's supply is not the chips outside"
        changed = [
            a for a in model.accounts.values() if self.verified.get(a.account_id) != a.version
        ]
        chains = await asyncio.gather(
            *(self.book.ledger.verify(a.account_id, incremental=True) for a in changed)
        )
        assert all(chain.valid for chain in chains), chains
        self.verified.update((a.account_id, a.version) for a in changed)


@pytest.mark.parametrize("store", STORES)
def test_balance_state_machine(
    stack: SessionStack, store: str, request: pytest.FixtureRequest
) -> None:
    """Run the machine under the chosen profile, on one Valkey and on the 3-master cluster."""
    BalanceMachine.loop = loop = asyncio.new_event_loop()
    if store == STORES[0]:
        BalanceMachine.redis = redis = aioredis.Redis.from_url(stack.redis_url)
    else:
        cluster: EmbeddedValkeyCluster = request.getfixturevalue("valkey_cluster")
        BalanceMachine.redis = redis = connect_redis(cluster.url, cluster=True)  # type: ignore[assignment]
    machine_test = BalanceMachine.TestCase
    machine_test.settings = PROFILE
    try:
        machine_test().runTest()
    finally:
        loop.run_until_complete(redis.aclose())
        loop.close()
