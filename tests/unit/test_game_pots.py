"""Side pots, uncalled bets, odd chips and rake, as pure functions and through a hand."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.game import (
    Hand,
    Pot,
    SeatStack,
    TableRules,
    apply_rake,
    build_pots,
    return_uncalled,
    split_pot,
    stack_deck,
)


def pots_of(pots: list[Pot]) -> list[tuple[int, tuple[str, ...]]]:
    return [(pot.amount, pot.eligible) for pot in pots]


def test_three_way_all_in_with_different_stacks() -> None:
    kept, returned = return_uncalled({"a": 100, "b": 300, "c": 500}, set())
    assert returned == {"c": 200}
    assert kept == {"a": 100, "b": 300, "c": 300}
    assert pots_of(build_pots(kept, set())) == [(300, ("a", "b", "c")), (400, ("b", "c"))]


def test_a_folded_contributor_feeds_pots_it_cannot_win() -> None:
    contributions = {"a": 100, "b": 300, "c": 250, "d": 300}
    pots = build_pots(contributions, {"c"})
    assert pots_of(pots) == [(400, ("a", "b", "d")), (550, ("b", "d"))]
    assert sum(pot.amount for pot in pots) == sum(contributions.values())


def test_folded_chips_above_every_live_level_join_the_last_pot() -> None:
    assert pots_of(build_pots({"a": 100, "b": 20}, {"a"})) == [(120, ("b",))]


def test_dead_money_alone_goes_to_the_live_players() -> None:
    assert pots_of(build_pots({"a": 1, "b": 2, "c": 0}, {"a", "b"})) == [(3, ("c",))]


def test_a_pot_needs_a_live_player() -> None:
    with pytest.raises(ValueError, match="live player"):
        build_pots({"a": 10}, {"a"})


def test_the_uncalled_part_of_a_bet_goes_back() -> None:
    assert return_uncalled({"a": 500, "b": 100}, {"b"}) == ({"a": 100, "b": 100}, {"a": 400})
    # Matched bets and a folded top contributor's dead money are not returned.
    assert return_uncalled({"a": 100, "b": 100}, set())[1] == {}
    assert return_uncalled({"a": 100, "b": 20}, {"a"})[1] == {}


def test_two_way_split_gives_the_odd_chip_to_the_first_winner() -> None:
    assert split_pot(101, ["b", "a"]) == {"b": 51, "a": 50}


def test_three_way_split_spreads_the_odd_chips_in_order() -> None:
    assert split_pot(100, ["c", "a", "b"]) == {"c": 34, "a": 33, "b": 33}
    assert split_pot(101, ["c", "a", "b"]) == {"c": 34, "a": 34, "b": 33}
    with pytest.raises(ValueError, match="winner"):
        split_pot(10, [])


def test_rake_is_rounded_down_per_pot() -> None:
    pots = apply_rake([Pot(99, ("a", "b"))], rake_bps=500, rake_cap=100, flop_seen=True)
    assert pots[0].rake == 4  # 4.95 rounds down
    assert pots[0].net == 95


def test_rake_is_capped_over_the_whole_hand() -> None:
    pots = [Pot(300, ("a", "b", "c")), Pot(500, ("b", "c"))]
    raked = apply_rake(pots, rake_bps=500, rake_cap=20, flop_seen=True)
    assert [pot.rake for pot in raked] == [15, 5]
    assert apply_rake([Pot(1000, ("a",))], 500, 30, flop_seen=True)[0].rake == 30


def test_no_flop_no_drop() -> None:
    assert apply_rake([Pot(1000, ("a", "b"))], 500, 30, flop_seen=False)[0].rake == 0


@given(
    st.dictionaries(st.sampled_from("abcdef"), st.integers(0, 1000), min_size=2),
    st.sets(st.sampled_from("abcdef")),
)
def test_pots_and_returns_hold_every_chip(contributions: dict[str, int], folded: set[str]) -> None:
    kept, returned = return_uncalled(contributions, folded)
    if set(kept) <= folded:
        return
    pots = build_pots(kept, folded)
    assert sum(pot.amount for pot in pots) + sum(returned.values()) == sum(contributions.values())
    assert all(set(pot.eligible).isdisjoint(folded) for pot in pots)


RULES = TableRules(small_blind=5, big_blind=10, min_buy_in=10, max_buy_in=1000, rake_cap=30)


def test_a_hand_returns_the_uncalled_all_in_before_the_showdown() -> None:
    # Heads-up: the button "a" moves all-in for 500, "b" calls with 200.
    deck = stack_deck(["Kc", "Ah", "Kd", "Ad"])  # b gets Kc Kd, a gets Ah Ad
    seats = [SeatStack(0, "a", 500), SeatStack(1, "b", 200)]
    hand, _ = Hand.start("h", RULES, seats, 0, deck)
    hand.apply("a", "all_in")
    events = hand.apply("b", "call")
    result = hand.result
    assert result is not None
    returned = [e for e in events if e.kind == "bet.returned"]
    assert [(e.user_id, e.chips_out) for e in returned] == [("a", 300)]  # type: ignore[union-attr]
    assert result.returned == {"a": 300}
    assert [(p.amount, p.rake) for p in result.pots] == [(400, 20)]
    assert sum(result.final_stacks.values()) + result.rake == 700


def test_a_hand_rake_is_capped_and_skipped_without_a_flop() -> None:
    seats = [SeatStack(0, "a", 1000), SeatStack(1, "b", 1000)]
    hand, _ = Hand.start("h", RULES, seats, 0, stack_deck([]))
    hand.apply("a", "raise", 300)
    hand.apply("b", "call")
    hand.apply("b", "bet", 500)
    hand.apply("a", "fold")
    assert hand.result is not None
    assert hand.result.rake == 30  # 5 % of 600 is 30, the cap
    assert hand.result.returned == {"b": 500}
    preflop, _ = Hand.start("h2", RULES, seats, 0, stack_deck([]))
    preflop.apply("a", "raise", 300)
    preflop.apply("b", "fold")
    assert preflop.result is not None
    assert preflop.result.rake == 0
    assert preflop.result.final_stacks == {"b": 990, "a": 1010}
