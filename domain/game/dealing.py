"""Checking the seats of a new hand and dealing hole and board cards from the supplied deck.

With n players dealt in, positions 0..n-1 counted left of the button (the button last):
position i gets deck[i] and deck[n + i] (one card at a time, two passes, like a dealer); then
burn deck[2n], flop deck[2n+1 : 2n+4], burn deck[2n+4], turn deck[2n+5], burn deck[2n+6],
river deck[2n+7].
"""

from __future__ import annotations

from collections.abc import Sequence

from domain.game.betting import Player
from domain.game.errors import InvalidSetup
from domain.game.rules import TableRules
from domain.game.seating import SeatStack, seat_order

# Offsets after the 2n hole cards: (burn, first card, card count) of each street.
BOARD_LAYOUT: dict[str, tuple[int, int, int]] = {
    "flop": (0, 1, 3),
    "turn": (4, 5, 1),
    "river": (6, 7, 1),
}


def check_seats(rules: TableRules, seats: Sequence[SeatStack]) -> None:
    """Raise InvalidSetup unless seats, users and stacks are distinct, in range and integers."""
    if len({s.seat for s in seats}) != len(seats):
        raise InvalidSetup("two players share a seat")
    if len({s.user_id for s in seats}) != len(seats):
        raise InvalidSetup("a user holds two seats")
    for s in seats:
        if type(s.seat) is not int or not 0 <= s.seat < rules.max_seats:
            raise InvalidSetup(f"seat {s.seat!r} is outside 0..{rules.max_seats - 1}")
        if type(s.stack) is not int or s.stack < 0:
            raise InvalidSetup(f"stack of seat {s.seat} must be a non-negative integer")
        if not isinstance(s.user_id, str) or not s.user_id:
            raise InvalidSetup(f"seat {s.seat} needs a non-empty user id")


def deal_players(
    rules: TableRules, seats: Sequence[SeatStack], button_seat: int, deck: Sequence[str]
) -> list[Player]:
    """Return the players with chips, left of the button first, holding their hole cards."""
    check_seats(rules, seats)
    dealt = {s.seat: s for s in seats if s.stack > 0}
    if len(dealt) < 2:
        raise InvalidSetup("at least two seats with chips are needed")
    order = [dealt[seat] for seat in seat_order(list(dealt), button_seat)]
    n = len(order)
    return [
        Player(s.user_id, s.seat, s.stack, s.stack, [deck[i], deck[n + i]])
        for i, s in enumerate(order)
    ]


def board_cards(deck: Sequence[str], players: int, street: str) -> list[str]:
    """Return the cards a street adds to the board (the burn card skipped)."""
    _, first, count = BOARD_LAYOUT[street]
    start = 2 * players + first
    return list(deck[start : start + count])
