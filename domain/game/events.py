"""What a hand emits: small frozen events (each with a `kind`) and the final result.

`dataclasses.asdict(event)` is JSON-safe (str, int, bool, lists/tuples, dicts with str keys).
Hole cards never appear in events before the showdown: read them with `Hand.hole_cards`.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class HandStarted:
    """Seats dealt in (user id -> seat, left of the button first) and their starting stacks."""

    hand_id: str
    button_seat: int
    seats: dict[str, int]
    stacks: dict[str, int]
    kind: str = field(default="hand.started", init=False)


@dataclass(frozen=True)
class BlindPosted:
    """A blind moved `chips_in` from the player's stack into the pot (less if all-in)."""

    user_id: str
    blind: str
    chips_in: int
    stack: int
    street_bet: int
    all_in: bool
    kind: str = field(default="blind.posted", init=False)


@dataclass(frozen=True)
class PlayerActed:
    """A player acted; `forced` marks a fold by `Hand.fold_out` (the player left)."""

    user_id: str
    action: str
    chips_in: int
    stack: int
    street_bet: int
    all_in: bool
    forced: bool = False
    kind: str = field(default="player.acted", init=False)


@dataclass(frozen=True)
class StreetDealt:
    """Board cards for a new street (`cards`) and the whole board so far."""

    street: str
    cards: tuple[str, ...]
    board: tuple[str, ...]
    kind: str = field(default="street.dealt", init=False)


@dataclass(frozen=True)
class BetReturned:
    """The unmatched part of the top bet went back from the pot to its bettor's stack."""

    user_id: str
    chips_out: int
    kind: str = field(default="bet.returned", init=False)


@dataclass(frozen=True)
class ShownHand:
    """A hand shown down: hole cards, category name and the best five cards."""

    user_id: str
    hole: tuple[str, ...]
    category: str
    best_five: tuple[str, ...]


@dataclass(frozen=True)
class Showdown:
    """Every live player's hand, in seat order left of the button."""

    hands: tuple[ShownHand, ...]
    kind: str = field(default="showdown", init=False)


@dataclass(frozen=True)
class PotResult:
    """One pot: `amount` before rake, the rake taken, who could win it and who won what."""

    amount: int
    rake: int
    eligible: tuple[str, ...]
    winners: tuple[str, ...]
    shares: dict[str, int]


@dataclass(frozen=True)
class HandResult:
    """How the hand settled. sum(final_stacks) + rake == sum(starting stacks).

    `payouts` is what each player won from the pots (after rake); `returned` the uncalled
    chips given back, which is no pot and never raked; `final_stacks` = stack behind + returned
    + payouts, for every player dealt in.
    """

    hand_id: str
    pots: tuple[PotResult, ...]
    rake: int
    payouts: dict[str, int]
    returned: dict[str, int]
    final_stacks: dict[str, int]
    shown: dict[str, tuple[str, ...]]
    board: tuple[str, ...]
    showdown: bool


@dataclass(frozen=True)
class HandEnded:
    """The hand is over; `result` says who won what."""

    result: HandResult
    kind: str = field(default="hand.ended", init=False)


HandEvent = (
    HandStarted | BlindPosted | PlayerActed | StreetDealt | BetReturned | Showdown | HandEnded
)
