"""A Hypothesis state machine over real Valkey: invariants hold after every step.

Available never negative; chips conserved across every account, the house and open pots;
a reservation resolves once; every ledger chain verifies and matches its account.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Coroutine
from typing import Any, TypeVar

import redis.asyncio as aioredis
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

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
from domain.balance.types import PotStatus, ReservationStatus
from domain.errors import DomainError, ErrorCode
from tests.balance_support import FakeClock, make_book
from tests.conftest import SessionStack

T = TypeVar("T")
PLAYERS = ("p1", "p2", "p3")
ALLOWED_REFUSALS = {
    ErrorCode.INSUFFICIENT_FUNDS,
    ErrorCode.RESERVATION_EXPIRED,
    ErrorCode.RESERVATION_ALREADY_RESOLVED,
    ErrorCode.POT_ALREADY_SETTLED,
    ErrorCode.VALIDATION_FAILED,
}
amounts = st.integers(min_value=1, max_value=600)


class BalanceMachine(RuleBasedStateMachine):
    """Random credits, debits, reservations, pots and clock moves against one Valkey."""

    redis_url = ""

    def __init__(self) -> None:
        super().__init__()
        self.loop = asyncio.new_event_loop()
        self.redis = aioredis.Redis.from_url(self.redis_url)
        self.run(self.redis.flushdb())
        self.clock = FakeClock()
        self.book = make_book(self.redis, self.clock)
        for account_id in (*PLAYERS, "house"):
            self.run(self.book.accounts.ensure(account_id))
        self.outside = 0  # deposits - withdrawals - chips committed to tables
        self.keys = 0
        self.reservations: list[str] = []
        self.resolved: dict[str, ReservationStatus] = {}
        self.hand = 0
        self.pot_open = False
        self.last_request: tuple[str, int, str] | None = None

    def run(self, work: Awaitable[T]) -> T:
        return self.loop.run_until_complete(work)

    def key(self) -> str:
        self.keys += 1
        return f"k{self.keys}"

    def attempt(self, coro: Coroutine[Any, Any, T]) -> T | None:
        try:
            return self.run(coro)
        except DomainError as refused:
            if refused.code not in ALLOWED_REFUSALS:
                raise
            return None

    @rule(player=st.sampled_from(PLAYERS), amount=amounts)
    def credit(self, player: str, amount: int) -> None:
        key = self.key()
        self.run(
            self.book.accounts.credit(Credit(account_id=player, amount=amount, idempotency_key=key))
        )
        self.outside += amount
        self.last_request = (player, amount, key)

    @precondition(lambda self: self.last_request is not None)
    @rule()
    def replay_last_credit(self) -> None:
        assert self.last_request is not None
        player, amount, key = self.last_request
        assert self.run(
            self.book.accounts.credit(Credit(account_id=player, amount=amount, idempotency_key=key))
        ).replayed

    @rule(player=st.sampled_from(PLAYERS), amount=amounts)
    def debit(self, player: str, amount: int) -> None:
        if self.attempt(
            self.book.accounts.debit(
                Debit(account_id=player, amount=amount, idempotency_key=self.key())
            )
        ):
            self.outside -= amount

    @rule(player=st.sampled_from(PLAYERS), amount=amounts, ttl=st.integers(1, 30))
    def reserve(self, player: str, amount: int, ttl: int) -> None:
        held = self.attempt(
            self.book.reservations.reserve(
                Reserve(
                    account_id=player, amount=amount, ttl_seconds=ttl, idempotency_key=self.key()
                )
            )
        )
        if held:
            self.reservations.append(held.reservation.reservation_id)

    @precondition(lambda self: self.reservations)
    @rule(data=st.data(), part=st.integers(0, 600))
    def commit(self, data: st.DataObject, part: int) -> None:
        rid = data.draw(st.sampled_from(self.reservations))
        done = self.attempt(
            self.book.reservations.commit(
                CommitReservation(reservation_id=rid, amount=part, idempotency_key=self.key())
            )
        )
        if done:
            self.outside -= done.reservation.committed_amount

    @precondition(lambda self: self.reservations)
    @rule(data=st.data())
    def release(self, data: st.DataObject) -> None:
        rid = data.draw(st.sampled_from(self.reservations))
        self.attempt(
            self.book.reservations.release(
                ReleaseReservation(reservation_id=rid, idempotency_key=self.key())
            )
        )

    @rule(seconds=st.integers(1, 20))
    def time_passes_and_sweep(self, seconds: int) -> None:
        self.clock.advance(seconds)
        self.run(self.book.expiry.expire_due())

    @precondition(lambda self: not self.pot_open)
    @rule()
    def open_pot(self) -> None:
        self.hand += 1
        self.run(self.book.pots.create(CreatePot(table_id="t", hand_id=f"h{self.hand}")))
        self.pot_open = True

    @precondition(lambda self: self.pot_open)
    @rule(player=st.sampled_from(PLAYERS), amount=amounts, from_reservation=st.booleans())
    def bet(self, player: str, amount: int, from_reservation: bool) -> None:
        reservation_id = ""
        if from_reservation:
            mine = [r for r in self.reservations if r not in self.resolved]
            pending = [
                r for r in mine if self.run(self.book.reservations.get(r)).account_id == player
            ]
            reservation_id = pending[0] if pending else ""
        self.attempt(
            self.book.pots.contribute(
                RecordContribution(
                    table_id="t",
                    hand_id=f"h{self.hand}",
                    account_id=player,
                    amount=amount,
                    idempotency_key=self.key(),
                    reservation_id=reservation_id,
                )
            )
        )

    @precondition(lambda self: self.pot_open)
    @rule(winner_count=st.integers(1, 3), rake_percent=st.integers(0, 10), cancel=st.booleans())
    def finish_hand(self, winner_count: int, rake_percent: int, cancel: bool) -> None:
        pot = self.run(self.book.pots.get("t", f"h{self.hand}"))
        if cancel or not pot.contributions:
            self.run(
                self.book.pots.cancel(
                    CancelPot(table_id="t", hand_id=f"h{self.hand}", idempotency_key=self.key())
                )
            )
        else:
            rake = pot.total * rake_percent // 100
            winners = sorted(pot.contributions)[:winner_count]
            self.run(
                self.book.pots.settle(
                    SettlePot(
                        table_id="t",
                        hand_id=f"h{self.hand}",
                        side_pots=[SidePot(pot.total - rake, winners)],
                        rake=rake,
                        idempotency_key=self.key(),
                    )
                )
            )
        self.pot_open = False

    @invariant()
    def chips_are_conserved_and_never_negative(self) -> None:
        total = 0
        for account_id in (*PLAYERS, "house"):
            account = self.run(self.book.accounts.get_balance(account_id))
            assert account.reserved >= 0
            assert account.available >= 0
            total += account.balance
        if self.pot_open:
            pot = self.run(self.book.pots.get("t", f"h{self.hand}"))
            assert pot.status is PotStatus.OPEN
            total += pot.total
        assert total == self.outside

    @invariant()
    def reservations_resolve_once(self) -> None:
        for rid in self.reservations:
            status = self.run(self.book.reservations.get(rid)).status
            if rid in self.resolved:
                assert status is self.resolved[rid]
            elif status is not ReservationStatus.PENDING:
                self.resolved[rid] = status

    @invariant()
    def every_chain_verifies(self) -> None:
        for account_id in (*PLAYERS, "house"):
            result = self.run(self.book.ledger.verify(account_id, incremental=True))
            assert result.valid, result

    def teardown(self) -> None:
        self.run(self.redis.aclose())
        self.loop.close()


def test_balance_state_machine(stack: SessionStack) -> None:
    BalanceMachine.redis_url = stack.redis_url
    machine_test = BalanceMachine.TestCase
    machine_test.settings = settings(
        max_examples=25,
        stateful_step_count=25,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow],
    )
    machine_test().runTest()
