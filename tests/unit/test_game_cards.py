"""Cards, decks, deterministic shuffling, deck commitments, table rules and the button."""

from __future__ import annotations

import hashlib
import random

import pytest

from domain.game import (
    FULL_DECK,
    InvalidDeck,
    InvalidRules,
    InvalidSetup,
    TableRules,
    deck_commitment,
    next_button,
    shuffle,
    stack_deck,
    validate_deck,
    verify_commitment,
)
from domain.game.cards import commitment_preimage


def test_the_full_deck_has_52_distinct_cards_in_a_fixed_order() -> None:
    assert len(FULL_DECK) == 52
    assert len(set(FULL_DECK)) == 52
    assert FULL_DECK[:5] == ("2c", "2d", "2h", "2s", "3c")
    assert FULL_DECK[-1] == "As"


@pytest.mark.parametrize(
    "deck",
    [
        list(FULL_DECK[:51]),
        [*FULL_DECK[:51], "2c"],
        [*FULL_DECK[:51], "1s"],
        [*FULL_DECK[:51], "as"],
        [*FULL_DECK[:51], "AS"],
        [*FULL_DECK, "Xx"],
    ],
)
def test_a_deck_must_be_a_permutation_of_the_52_cards(deck: list[str]) -> None:
    with pytest.raises(InvalidDeck):
        validate_deck(deck)


def test_shuffle_is_deterministic_given_the_rng_and_leaves_the_input_alone() -> None:
    deck = list(FULL_DECK)
    first = shuffle(deck, random.Random(42))
    assert first == shuffle(deck, random.Random(42))
    assert first != shuffle(deck, random.Random(43))
    assert sorted(first) == sorted(FULL_DECK)
    assert deck == list(FULL_DECK)


def test_shuffle_survives_an_rng_at_the_edge_of_its_range() -> None:
    class Edge:
        def random(self) -> float:
            return 0.9999999999999999

    assert sorted(shuffle(FULL_DECK, Edge())) == sorted(FULL_DECK)


def test_stack_deck_puts_the_given_cards_on_top() -> None:
    deck = stack_deck(["As", "Kd"])
    assert deck[:2] == ["As", "Kd"]
    assert validate_deck(deck) == deck
    with pytest.raises(InvalidDeck):
        stack_deck(["As", "As"])


def test_the_commitment_is_sha256_of_salt_colon_cards() -> None:
    deck = shuffle(FULL_DECK, random.Random(7))
    expected = hashlib.sha256(("pepper:" + "".join(deck)).encode()).hexdigest()
    assert commitment_preimage(deck, "pepper") == "pepper:" + "".join(deck)
    assert deck_commitment(deck, "pepper") == expected
    assert verify_commitment(deck, "pepper", expected)
    assert verify_commitment(deck, "pepper", expected.upper())


def test_the_commitment_fails_for_a_changed_deck_or_salt() -> None:
    deck = shuffle(FULL_DECK, random.Random(7))
    commitment = deck_commitment(deck, "pepper")
    swapped = [deck[1], deck[0], *deck[2:]]
    assert not verify_commitment(swapped, "pepper", commitment)
    assert not verify_commitment(deck, "salt", commitment)
    assert not verify_commitment(deck[:51], "pepper", commitment)
    with pytest.raises(InvalidDeck):
        deck_commitment(deck, "")


def rules(**overrides: int) -> TableRules:
    values = {"small_blind": 5, "big_blind": 10, "min_buy_in": 100, "max_buy_in": 1000}
    values["rake_cap"] = 30
    values.update(overrides)
    return TableRules(**values)


def test_table_rules_have_sensible_defaults_and_round_trip() -> None:
    table = rules()
    assert (table.rake_bps, table.max_seats, table.action_timeout_seconds) == (500, 9, 30)
    assert TableRules.from_dict(table.to_dict()) == table


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"small_blind": 0}, "small_blind"),
        ({"small_blind": 20}, "big_blind"),
        ({"min_buy_in": 5}, "min_buy_in"),
        ({"max_buy_in": 50}, "max_buy_in"),
        ({"max_seats": 1}, "max_seats"),
        ({"max_seats": 11}, "max_seats"),
        ({"action_timeout_seconds": 0}, "action_timeout_seconds"),
        ({"rake_bps": 10_001}, "rake_bps"),
        ({"rake_bps": -1}, "rake_bps"),
        ({"rake_cap": -1}, "rake_cap"),
    ],
)
def test_bad_table_rules_are_refused(overrides: dict[str, int], field: str) -> None:
    with pytest.raises(InvalidRules) as error:
        rules(**overrides)
    assert error.value.field == field


def test_chips_must_be_integers() -> None:
    with pytest.raises(InvalidRules) as error:
        TableRules(small_blind=0.5, big_blind=1, min_buy_in=40, max_buy_in=100, rake_cap=3)  # type: ignore[arg-type]
    assert error.value.field == "small_blind"
    with pytest.raises(InvalidRules):
        TableRules(small_blind=True, big_blind=1, min_buy_in=40, max_buy_in=100, rake_cap=3)


def test_the_button_moves_to_the_next_seat_with_chips() -> None:
    assert next_button([2, 5, 7], None) == 2
    assert next_button([2, 5, 7], 2) == 5
    assert next_button([2, 5, 7], 3) == 5
    assert next_button([2, 5, 7], 7) == 2
    assert next_button([7, 2], 9) == 2
    with pytest.raises(InvalidSetup):
        next_button([], 1)
