"""A stateful random walk over many hands: legal and illegal actions, invariants at every step."""

from __future__ import annotations

import random

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule

from domain.game import (
    ACTIONS,
    FULL_DECK,
    Hand,
    HandEvent,
    IllegalAction,
    NotYourTurn,
    SeatStack,
    TableRules,
    next_button,
    shuffle,
)

MAX_SEATS = 9


class HoldemMachine(RuleBasedStateMachine):
    """Plays hand after hand at one table, mixing legal moves, illegal moves and departures."""

    def __init__(self) -> None:
        super().__init__()
        self.hand: Hand | None = None
        self.table_rules = TableRules(
            small_blind=1, big_blind=2, min_buy_in=2, max_buy_in=2, rake_cap=0
        )
        self.rng = random.Random(0)
        self.events: list[HandEvent] = []
        self.total = 0
        self.bound = 0

    @initialize(
        blinds=st.tuples(st.integers(1, 5), st.integers(1, 3)),
        rake=st.tuples(st.integers(0, 1000), st.integers(0, 40)),
        seats=st.sets(st.integers(0, MAX_SEATS - 1), min_size=2, max_size=6),
        stacks=st.lists(st.integers(1, 300), min_size=6, max_size=6),
        # A seed, not st.randoms(): a drawn Random would spend input on each of 51 draws/deck.
        seed=st.integers(0, 2**32 - 1),
    )
    def open_table(
        self,
        blinds: tuple[int, int],
        rake: tuple[int, int],
        seats: set[int],
        stacks: list[int],
        seed: int,
    ) -> None:
        small, factor = blinds
        self.table_rules = TableRules(
            small_blind=small,
            big_blind=small * factor,
            min_buy_in=small * factor,
            max_buy_in=small * factor * 100,
            max_seats=MAX_SEATS,
            rake_bps=rake[0],
            rake_cap=rake[1],
        )
        self.rng = random.Random(seed)
        table = [
            SeatStack(seat, f"u{seat}", stack)
            for seat, stack in zip(sorted(seats), stacks, strict=False)
        ]
        self.deal(table, next_button([s.seat for s in table], None))

    def deal(self, table: list[SeatStack], button: int) -> None:
        deck = shuffle(FULL_DECK, self.rng)
        self.hand, self.events = Hand.start("h", self.table_rules, table, button, deck)
        self.total = sum(s.stack for s in table)
        dealt = sum(s.stack > 0 for s in table)
        # Per street each player acts at most once per raise, and raises are bounded by chips.
        self.bound = 4 * dealt * (self.total // self.table_rules.big_blind + dealt + 1)

    def live(self) -> Hand:
        assert self.hand is not None
        return self.hand

    @precondition(lambda self: self.hand is not None and not self.hand.is_over)
    @rule(data=st.data())
    def legal_move(self, data: st.DataObject) -> None:
        hand = self.live()
        user = hand.to_act
        assert user is not None
        legal = hand.legal_actions(user)
        # Folds end hands early; keep them rare so streets, all-ins and side pots get played.
        choices = [a for a in legal.actions if a != "fold"]
        fold = data.draw(st.integers(0, 9)) == 0
        action = "fold" if fold else data.draw(st.sampled_from(choices))
        amount = None
        if action in ("bet", "raise"):
            assert legal.min_raise_to is not None
            assert legal.max_raise_to is not None
            amount = data.draw(st.integers(legal.min_raise_to, legal.max_raise_to))
        self.events += hand.apply(user, action, amount)

    @precondition(lambda self: self.hand is not None and not self.hand.is_over)
    @rule(data=st.data())
    def illegal_move(self, data: st.DataObject) -> None:
        hand = self.live()
        user = hand.to_act
        assert user is not None
        legal = hand.legal_actions(user)
        before = hand.snapshot()
        others = [u for u in [*hand.players, "ghost"] if u != user]
        choice = data.draw(st.integers(0, 3))
        try:
            if choice == 0:
                hand.apply(data.draw(st.sampled_from(others)), data.draw(st.sampled_from(ACTIONS)))
            elif choice == 1:
                wrong = [a for a in [*ACTIONS, "shove"] if a not in legal.actions]
                hand.apply(user, data.draw(st.sampled_from(wrong)), 10)
            elif choice == 2 and legal.min_raise_to is not None and legal.max_raise_to is not None:
                kind = "bet" if "bet" in legal.actions else "raise"
                bad = data.draw(st.sampled_from([legal.min_raise_to - 1, legal.max_raise_to + 1]))
                hand.apply(user, kind, bad)
            else:
                hand.apply(user, data.draw(st.sampled_from(legal.actions)), 0)
        except (NotYourTurn, IllegalAction):
            pass
        else:
            raise AssertionError("an illegal action was accepted")
        assert hand.snapshot() == before

    @precondition(lambda self: self.hand is not None and not self.hand.is_over)
    @rule(data=st.data())
    def somebody_leaves(self, data: st.DataObject) -> None:
        hand = self.live()
        if data.draw(st.integers(0, 3)) == 0:
            self.events += hand.fold_out(data.draw(st.sampled_from(hand.players)))

    @precondition(lambda self: self.hand is not None and not self.hand.is_over)
    @rule(data=st.data())
    def clock_runs_out(self, data: st.DataObject) -> None:
        hand = self.live()
        if data.draw(st.integers(0, 2)) != 0:
            return
        user = hand.to_act
        assert user is not None
        action, amount = hand.timeout_action(user)
        assert action in ("check", "fold")
        self.events += hand.apply(user, action, amount)

    @precondition(lambda self: self.hand is not None and self.hand.is_over)
    @rule(rebuy=st.integers(1, 300))
    def next_hand(self, rebuy: int) -> None:
        hand = self.live()
        assert hand.result is not None
        final = hand.result.final_stacks
        table = [SeatStack(s.seat, s.user_id, final.get(s.user_id, s.stack)) for s in hand.seats]
        if sum(s.stack > 0 for s in table) < 2:
            table = [SeatStack(s.seat, s.user_id, s.stack or rebuy) for s in table]
        self.deal(table, next_button([s.seat for s in table if s.stack > 0], hand.button_seat))

    @invariant()
    def chips_are_conserved(self) -> None:
        if self.hand is None:
            return
        hand = self.hand
        assert all(stack >= 0 for stack in hand.stacks.values())
        assert sum(hand.stacks.values()) + hand.pot_total == self.total
        assert sum(getattr(e, "chips_in", 0) for e in self.events) == hand.pot_total
        result = hand.result
        if result is None:
            return
        assert sum(result.final_stacks.values()) + result.rake == self.total
        assert all(stack >= 0 for stack in result.final_stacks.values())
        assert result.rake <= self.table_rules.rake_cap
        assert result.rake == 0 or len(result.board) >= 3
        pots = sum(p.amount for p in result.pots)
        assert pots + sum(result.returned.values()) == hand.pot_total
        assert all(sum(p.shares.values()) == p.amount - p.rake for p in result.pots)
        returned = sum(getattr(e, "chips_out", 0) for e in self.events)
        assert returned == sum(result.returned.values())

    @invariant()
    def the_turn_is_sane(self) -> None:
        if self.hand is None:
            return
        hand = self.hand
        user = hand.to_act
        assert (user is None) == hand.is_over
        if user is not None:
            assert user not in hand.folded
            assert user not in hand.all_in
            assert hand.legal_actions(user).actions
        assert all(not hand.legal_actions(u).actions for u in hand.players if u != user)
        assert len(hand.actions) <= self.bound

    @invariant()
    def finished_hands_replay(self) -> None:
        if self.hand is not None and self.hand.is_over:
            assert Hand.from_dict(self.hand.to_dict()).snapshot() == self.hand.snapshot()


HoldemMachine.TestCase.settings = settings(
    max_examples=150,
    stateful_step_count=60,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
TestHoldem = HoldemMachine.TestCase
