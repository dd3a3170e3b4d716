"""Cards, decks, deterministic shuffling and the deck commitment players can verify.

A card is a two-character string: rank from `RANKS` then suit from `SUITS` ("As", "Td", "2c").
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Sequence
from typing import Protocol

from domain.game.errors import InvalidDeck

RANKS = "23456789TJQKA"
SUITS = "cdhs"

# Rank-major, suits in `SUITS` order: 2c 2d 2h 2s 3c ... As. A tuple so nobody can mutate it.
FULL_DECK: tuple[str, ...] = tuple(rank + suit for rank in RANKS for suit in SUITS)
_FULL_SET = frozenset(FULL_DECK)


class RandomSource(Protocol):
    """Anything with `random() -> float` in [0, 1): `random.Random`, `workflow.random()`."""

    def random(self) -> float: ...


def is_card(card: object) -> bool:
    """True when `card` is a well-formed two-character card string."""
    return isinstance(card, str) and card in _FULL_SET


def validate_cards(cards: Sequence[str]) -> list[str]:
    """Return `cards` as a list if every card is well formed and none repeats, else InvalidDeck."""
    for card in cards:
        if not is_card(card):
            raise InvalidDeck(f"malformed card {card!r}")
    if len(set(cards)) != len(cards):
        raise InvalidDeck("duplicate card")
    return list(cards)


def validate_deck(deck: Sequence[str]) -> list[str]:
    """Return `deck` as a list if it is a permutation of the 52 cards, else raise InvalidDeck."""
    cards = validate_cards(deck)
    if len(cards) != len(FULL_DECK):
        raise InvalidDeck(f"a deck has {len(FULL_DECK)} cards, got {len(cards)}")
    return cards


def shuffle(deck: Sequence[str], rng: RandomSource) -> list[str]:
    """Return a shuffled copy of `deck` (Fisher-Yates driven only by `rng.random()`).

    The engine never draws randomness itself: inside a workflow pass `workflow.random()`, so a
    replay draws the same numbers and gets the same deck. Only `.random()` is used so the result
    does not depend on how a Python version implements `random.shuffle`.
    """
    cards = list(deck)
    for i in range(len(cards) - 1, 0, -1):
        # min() guards against a source that could ever return exactly 1.0.
        j = min(int(rng.random() * (i + 1)), i)
        cards[i], cards[j] = cards[j], cards[i]
    return cards


def stack_deck(top: Sequence[str]) -> list[str]:
    """Return a full deck starting with `top`, the other cards following in FULL_DECK order."""
    head = validate_cards(top)
    chosen = set(head)
    return head + [card for card in FULL_DECK if card not in chosen]


def commitment_preimage(deck: Sequence[str], salt: str) -> str:
    """Return the canonical string that `deck_commitment` hashes: `salt + ":" + "".join(deck)`."""
    cards = validate_deck(deck)
    return salt + ":" + "".join(cards)


def deck_commitment(deck: Sequence[str], salt: str) -> str:
    """Return the lowercase sha256 hex digest of `salt + ":" + "".join(deck)` encoded as UTF-8.

    Example: salt "s1" and a deck starting "As", "Kd" hashes the string "s1:AsKd..." (104 card
    characters after the colon, no separators). The deck contains no ":", so the last colon
    separates salt and deck unambiguously. Publish the digest before the hand, reveal the salt and
    deck after it; anyone can recompute it with `verify_commitment` or any sha256 tool.
    """
    if not salt:
        raise InvalidDeck("the commitment salt must not be empty")
    preimage = commitment_preimage(deck, salt)
    return hashlib.sha256(preimage.encode("utf-8")).hexdigest()


def verify_commitment(deck: Sequence[str], salt: str, commitment: str) -> bool:
    """True when `commitment` is the `deck_commitment` of this deck and salt."""
    try:
        expected = deck_commitment(deck, salt)
    except InvalidDeck:
        return False
    return hmac.compare_digest(expected, commitment.lower())
