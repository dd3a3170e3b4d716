"""Hold'em hand ranking, delegated to pokerkit's 7-card evaluator."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from pokerkit import StandardHighHand

from domain.game.cards import validate_cards
from domain.game.errors import InvalidDeck

ROYAL_FLUSH = "Royal flush"
# pokerkit's labels from weakest to strongest, plus the royal flush it does not name separately.
CATEGORIES: tuple[str, ...] = (
    "High card",
    "One pair",
    "Two pair",
    "Three of a kind",
    "Straight",
    "Flush",
    "Full house",
    "Four of a kind",
    "Straight flush",
    ROYAL_FLUSH,
)


@dataclass(frozen=True)
class HandValue:
    """The best five-card hand of a player: higher `strength` wins, equal strength splits."""

    strength: int
    category: str
    best_five: tuple[str, ...]


def evaluate(hole: Sequence[str], board: Sequence[str]) -> HandValue:
    """Return the best five-card hand of 2 hole and 3 to 5 board cards (else InvalidDeck)."""
    validate_cards([*hole, *board])
    if len(hole) != 2 or not 3 <= len(board) <= 5:
        raise InvalidDeck("need 2 hole cards and 3 to 5 board cards")
    best = StandardHighHand.from_game("".join(hole), "".join(board))
    five = tuple(f"{card.rank.value}{card.suit.value}" for card in best.cards)
    category = str(best.entry.label.value)
    # The only straight flush containing both an ace and a king is the royal one.
    ranks = {card[0] for card in five}
    if category == "Straight flush" and {"A", "K"} <= ranks:
        category = ROYAL_FLUSH
    return HandValue(strength=best.entry.index, category=category, best_five=five)


def best_players(values: Mapping[str, HandValue], eligible: Sequence[str]) -> list[str]:
    """Return the eligible players holding the strongest hand, in the order of `eligible`."""
    top = max(values[user].strength for user in eligible)
    return [user for user in eligible if values[user].strength == top]


def compare(
    first: tuple[Sequence[str], Sequence[str]], second: tuple[Sequence[str], Sequence[str]]
) -> int:
    """Return 1, 0 or -1 as the first (hole, board) hand beats, ties or loses to the second."""
    a, b = evaluate(*first).strength, evaluate(*second).strength
    return (a > b) - (a < b)
