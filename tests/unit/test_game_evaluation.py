"""Hand ranking through pokerkit: the category ladder, kickers and split pots."""

from __future__ import annotations

import pytest

from domain.game import InvalidDeck, best_players, evaluate
from domain.game.evaluation import CATEGORIES, compare

# Weakest to strongest, one hand per category (and the wheel below a six-high straight).
LADDER: list[tuple[str, list[str], list[str]]] = [
    ("High card", ["As", "Kd"], ["9c", "7h", "5s", "3d", "2c"]),
    ("One pair", ["As", "Ad"], ["9c", "7h", "5s", "3d", "2c"]),
    ("Two pair", ["As", "9d"], ["9c", "Ah", "5s", "3d", "2c"]),
    ("Three of a kind", ["As", "Ad"], ["Ac", "7h", "5s", "3d", "2c"]),
    ("Straight", ["Ah", "4d"], ["5c", "3h", "2s", "9d", "Kc"]),
    ("Straight", ["6h", "4d"], ["5c", "3h", "2s", "9d", "Kc"]),
    ("Straight", ["Ah", "Kd"], ["Qc", "Jh", "Ts", "3d", "2c"]),
    ("Flush", ["Ah", "9h"], ["7h", "5h", "2h", "Kd", "Qc"]),
    ("Full house", ["As", "Ad"], ["Ac", "7h", "7s", "3d", "2c"]),
    ("Four of a kind", ["As", "Ad"], ["Ac", "Ah", "7s", "3d", "2c"]),
    ("Straight flush", ["5s", "4s"], ["As", "2s", "3s", "Kd", "Kc"]),
    ("Straight flush", ["9s", "8s"], ["7s", "6s", "5s", "Kd", "Kc"]),
    ("Royal flush", ["As", "Ks"], ["Qs", "Js", "Ts", "3d", "2c"]),
]


def test_each_category_is_named() -> None:
    assert [evaluate(hole, board).category for _, hole, board in LADDER] == [
        name for name, _, _ in LADDER
    ]
    assert {name for name, _, _ in LADDER} == set(CATEGORIES)


def test_the_ladder_is_strictly_increasing() -> None:
    strengths = [evaluate(hole, board).strength for _, hole, board in LADDER]
    assert strengths == sorted(strengths)
    assert len(set(strengths)) == len(strengths)


def test_the_wheel_is_the_lowest_straight() -> None:
    wheel = evaluate(["Ah", "4d"], ["5c", "3h", "2s", "9d", "Kc"])
    assert wheel.category == "Straight"
    assert sorted(card[0] for card in wheel.best_five) == sorted("A2345")
    six_high = (["6h", "4d"], ["5c", "3h", "2s", "9d", "Kc"])
    assert compare((["Ah", "4d"], ["5c", "3h", "2s", "9d", "Kc"]), six_high) == -1


@pytest.mark.parametrize(
    ("winner", "loser", "board"),
    [
        (["Kc", "8d"], ["Qc", "8h"], ["As", "Ad", "7h", "4s", "2c"]),  # pair, kicker
        (["Ac", "3d"], ["Qc", "3h"], ["Ks", "Kd", "7h", "7s", "2c"]),  # two pair, kicker
        (["Ah", "2d"], ["Kh", "Qd"], ["9h", "7h", "5h", "3h", "Jc"]),  # flush, top card
        (["Kc", "Kd"], ["Qc", "Qd"], ["Ks", "Qs", "7h", "7d", "2c"]),  # full house, trips
        (["As", "Ad"], ["Ks", "Kd"], ["Ah", "Kh", "Ac", "Kc", "2d"]),  # quads beat quads
    ],
)
def test_kickers_and_ranks_break_ties(
    winner: list[str], loser: list[str], board: list[str]
) -> None:
    assert compare((winner, board), (loser, board)) == 1
    assert compare((loser, board), (winner, board)) == -1


@pytest.mark.parametrize(
    "board",
    [
        ["Ts", "Js", "Qs", "Ks", "As"],  # royal flush on the board
        ["5c", "6d", "7h", "8s", "9c"],  # straight on the board
        ["Ac", "Ad", "Ah", "As", "Kc"],  # quads with the best kicker on the board
    ],
)
def test_when_the_board_plays_the_pot_is_split(board: list[str]) -> None:
    values = {"a": evaluate(["2c", "3d"], board), "b": evaluate(["2d", "4h"], board)}
    assert values["a"].strength == values["b"].strength
    assert best_players(values, ["b", "a"]) == ["b", "a"]


def test_best_players_only_considers_the_eligible() -> None:
    board = ["Ks", "Qd", "7h", "4s", "2c"]
    values = {
        "a": evaluate(["Ac", "Ad"], board),
        "b": evaluate(["Kc", "3d"], board),
        "c": evaluate(["Kd", "3h"], board),
    }
    assert best_players(values, ["a", "b", "c"]) == ["a"]
    assert best_players(values, ["c", "b"]) == ["c", "b"]


@pytest.mark.parametrize(
    ("hole", "board"),
    [
        (["As", "As"], ["Kd", "Qd", "Jd"]),
        (["As", "Kd"], ["Qd", "Jd"]),
        (["As"], ["Kd", "Qd", "Jd"]),
        (["As", "Xx"], ["Kd", "Qd", "Jd"]),
    ],
)
def test_bad_hands_are_refused(hole: list[str], board: list[str]) -> None:
    with pytest.raises(InvalidDeck):
        evaluate(hole, board)
