"""Seats and the button: who is dealt in and where the button moves.

Seats are numbered 0 .. max_seats - 1 clockwise; "left of" a seat means the next higher seat
number, wrapping from the highest back to the lowest.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from domain.game.errors import InvalidSetup


@dataclass(frozen=True)
class SeatStack:
    """A seated player and the chips they bring to the hand."""

    seat: int
    user_id: str
    stack: int


def next_button(seats_with_chips: Sequence[int], previous_button: int | None) -> int:
    """Return the first seat with chips left of `previous_button` (the lowest seat if None).

    A simple moving button: no dead button and no missed-blind bookkeeping.
    """
    seats = sorted(set(seats_with_chips))
    if not seats:
        raise InvalidSetup("no seat has chips")
    if previous_button is None:
        return seats[0]
    later = [seat for seat in seats if seat > previous_button]
    return later[0] if later else seats[0]


def seat_order(seats: Sequence[int], button_seat: int) -> list[int]:
    """Return `seats` clockwise starting left of the button, so the button comes last."""
    ordered = sorted(seats)
    if button_seat not in ordered:
        raise InvalidSetup(f"button seat {button_seat} is not dealt in")
    start = ordered.index(button_seat) + 1
    return ordered[start:] + ordered[:start]
