"""Pot arithmetic: side pots from contributions, and splitting pots among their winners."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from domain.balance.validation import require_amount, require_id
from domain.errors import ValidationFailed


@dataclass(frozen=True)
class SidePot:
    """Chips that the listed winners share; `eligible` lists who could have won them."""

    amount: int
    winner_ids: list[str] = field(default_factory=list)
    eligible: list[str] = field(default_factory=list)


def compute_side_pots(contributions: Mapping[str, int], folded: set[str]) -> list[SidePot]:
    """The main pot and side pots, smallest all-in level first, before winners are known.

    Each level holds what every player put in up to that level; chips folded players put in
    above the last live level belong to the last pot.
    """
    live = {p: c for p, c in contributions.items() if p not in folded and c > 0}
    if not live:
        raise ValidationFailed("a pot needs at least one player who has not folded")
    levels = sorted(set(live.values()))
    pots: list[SidePot] = []
    previous = 0
    for level in levels:
        amount = sum(min(c, level) - min(c, previous) for c in contributions.values())
        eligible = sorted(p for p, c in live.items() if c >= level)
        pots.append(SidePot(amount, eligible=eligible))
        previous = level
    overflow = sum(max(c - previous, 0) for c in contributions.values())
    if overflow:
        last = pots[-1]
        pots[-1] = SidePot(last.amount + overflow, eligible=last.eligible)
    return pots


def split_side_pots(side_pots: Sequence[SidePot]) -> dict[str, int]:
    """Each winner's chips: a pot is shared evenly, odd chips go to the first winners listed."""
    payouts: dict[str, int] = {}
    for index, side_pot in enumerate(side_pots):
        require_amount(side_pot.amount, f"side_pots[{index}].amount", allow_zero=True)
        winners = [require_id(w, "winner_id") for w in side_pot.winner_ids]
        if not winners and side_pot.amount > 0:
            raise ValidationFailed(f"side_pots[{index}] has chips but no winner")
        if len(set(winners)) != len(winners):
            raise ValidationFailed(f"side_pots[{index}] lists a winner twice")
        if side_pot.eligible and not set(winners) <= set(side_pot.eligible):
            raise ValidationFailed(f"side_pots[{index}] has a winner who was not eligible")
        if not winners:
            continue
        share, odd = divmod(side_pot.amount, len(winners))
        for position, winner in enumerate(winners):
            payouts[winner] = payouts.get(winner, 0) + share + (1 if position < odd else 0)
    return payouts
