"""Side pots from contributions, and splitting them among winners."""

from __future__ import annotations

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from domain.balance.pots import SidePot, compute_side_pots, split_side_pots
from domain.errors import ValidationFailed


def test_all_in_players_make_side_pots() -> None:
    pots = compute_side_pots({"a": 50, "b": 100, "c": 100, "d": 20}, folded={"d"})
    assert [(p.amount, p.eligible) for p in pots] == [(170, ["a", "b", "c"]), (100, ["b", "c"])]


def test_chips_folded_above_the_last_live_level_join_the_last_pot() -> None:
    pots = compute_side_pots({"a": 30, "b": 80}, folded={"b"})
    assert [(p.amount, p.eligible) for p in pots] == [(110, ["a"])]


def test_a_pot_needs_a_live_player() -> None:
    with pytest.raises(ValidationFailed):
        compute_side_pots({"a": 10}, folded={"a"})


@given(
    st.dictionaries(st.sampled_from("abcdef"), st.integers(0, 1000), min_size=1),
    st.sets(st.sampled_from("abcdef")),
)
def test_side_pots_hold_every_chip(contributions: dict[str, int], folded: set[str]) -> None:
    # Only inputs with a live contributor make pots; the rest are not this property's.
    assume(any(c > 0 for p, c in contributions.items() if p not in folded))
    pots = compute_side_pots(contributions, folded)
    assert sum(p.amount for p in pots) == sum(contributions.values())


def test_odd_chips_go_to_the_first_winners_listed() -> None:
    payouts = split_side_pots([SidePot(101, ["b", "a"]), SidePot(10, ["a"])])
    assert payouts == {"b": 51, "a": 60}


@pytest.mark.parametrize(
    "bad",
    [
        [SidePot(10, [])],
        [SidePot(10, ["a", "a"])],
        [SidePot(-1, ["a"])],
        [SidePot(10, ["a*"])],
        [SidePot(10, ["x"], eligible=["a"])],
    ],
)
def test_bad_side_pots_are_refused(bad: list[SidePot]) -> None:
    with pytest.raises(ValidationFailed):
        split_side_pots(bad)


@given(
    st.lists(
        st.tuples(
            st.integers(0, 10_000),
            st.lists(st.sampled_from("abcd"), min_size=1, max_size=4, unique=True),
        ),
        max_size=5,
    )
)
def test_splitting_pays_out_exactly_the_pots(pots: list[tuple[int, list[str]]]) -> None:
    payouts = split_side_pots([SidePot(a, w) for a, w in pots])
    assert sum(payouts.values()) == sum(a for a, _ in pots)
