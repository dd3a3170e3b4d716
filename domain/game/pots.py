"""Pure pot arithmetic: uncalled bets, side pots by all-in level, splits with odd chips, rake.

Every function takes player ids in seat order starting left of the button (dicts keep their
insertion order), and keeps that order in what it returns, so odd chips land deterministically.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence, Set
from dataclasses import dataclass, replace

from domain.game.rules import BPS


@dataclass(frozen=True)
class Pot:
    """Chips contested by `eligible` players; `rake` is taken from `amount` before the split."""

    amount: int
    eligible: tuple[str, ...]
    rake: int = 0

    @property
    def net(self) -> int:
        """Chips left for the winners after the rake."""
        return self.amount - self.rake


def return_uncalled(
    contributions: Mapping[str, int], folded: Set[str]
) -> tuple[dict[str, int], dict[str, int]]:
    """Split off the part of the top bet nobody matched: (contributions kept, chips returned).

    Only a live top contributor gets chips back; a folded player's chips are dead money.
    """
    kept = dict(contributions)
    ranked = sorted(kept.items(), key=lambda item: item[1], reverse=True)
    if not ranked:
        return kept, {}
    top_user, top = ranked[0]
    second = ranked[1][1] if len(ranked) > 1 else 0
    if top_user in folded or top <= second:
        return kept, {}
    kept[top_user] = second
    return kept, {top_user: top - second}


def build_pots(contributions: Mapping[str, int], folded: Set[str]) -> list[Pot]:
    """Return the main pot then side pots, one per distinct all-in level of the live players.

    A pot at level L holds every player's chips between the previous level and L, folded
    players' included; only live players who put in at least L are eligible. Chips a folded
    player put in above the highest live level join the last pot; with no live chips at all
    there is one pot of dead money for the live players. Remove uncalled bets first
    (`return_uncalled`), or the top bettor's excess becomes a pot only they can win.
    """
    live = {user: chips for user, chips in contributions.items() if user not in folded}
    if not live:
        raise ValueError("a pot needs a live player")
    levels = sorted({chips for chips in live.values() if chips > 0})
    if not levels:
        # Everyone who put chips in folded (players left before the last one acted): the
        # remaining players win the dead money.
        return [Pot(amount=sum(contributions.values()), eligible=tuple(live))]
    pots: list[Pot] = []
    previous = 0
    for level in levels:
        amount = sum(min(c, level) - min(c, previous) for c in contributions.values())
        eligible = tuple(user for user, chips in live.items() if chips >= level)
        pots.append(Pot(amount=amount, eligible=eligible))
        previous = level
    dead = sum(max(0, chips - previous) for chips in contributions.values())
    if dead:
        pots[-1] = replace(pots[-1], amount=pots[-1].amount + dead)
    return pots


def split_pot(amount: int, winners: Sequence[str]) -> dict[str, int]:
    """Split `amount` evenly; the odd chips go one each to the first winners in `winners` order.

    Pass winners in seat order starting left of the button, so the odd chip goes to the winner
    in the earliest position after the button (the usual casino rule).
    """
    if not winners:
        raise ValueError("a pot needs at least one winner")
    share, odd = divmod(amount, len(winners))
    return {user: share + (1 if index < odd else 0) for index, user in enumerate(winners)}


def apply_rake(pots: Sequence[Pot], rake_bps: int, rake_cap: int, flop_seen: bool) -> list[Pot]:
    """Return the pots with `rake` set: `rake_bps` of each pot rounded down, total <= rake_cap.

    "No flop, no drop": nothing is raked when the hand ended before the flop was dealt. The
    cap is consumed pot by pot in order, main pot first.
    """
    if not flop_seen:
        return [replace(pot, rake=0) for pot in pots]
    left = rake_cap
    raked: list[Pot] = []
    for pot in pots:
        take = min(pot.amount * rake_bps // BPS, left)
        left -= take
        raked.append(replace(pot, rake=take))
    return raked


def total_rake(pots: Sequence[Pot]) -> int:
    """Return the rake taken from all pots."""
    return sum(pot.rake for pot in pots)
