"""Settling a finished hand: uncalled bets back, pots built and raked, showdown, payouts."""

from __future__ import annotations

from collections.abc import Sequence

from domain.game.betting import Player
from domain.game.evaluation import HandValue, best_players, evaluate
from domain.game.events import (
    BetReturned,
    HandEvent,
    HandResult,
    PotResult,
    Showdown,
    ShownHand,
)
from domain.game.pots import apply_rake, build_pots, return_uncalled, split_pot, total_rake
from domain.game.rules import TableRules


def settle(
    hand_id: str, players: Sequence[Player], board: Sequence[str], rules: TableRules
) -> tuple[HandResult, list[HandEvent]]:
    """Return the result of a finished hand and the events that settle it (before hand.ended).

    `players` are in seat order left of the button, which is the order odd chips go in.
    """
    folded = {p.user_id for p in players if p.folded}
    contributions = {p.user_id: p.total for p in players}
    kept, returned = return_uncalled(contributions, folded)
    # "No flop, no drop": a hand that never saw a flop pays no rake.
    pots = apply_rake(build_pots(kept, folded), rules.rake_bps, rules.rake_cap, len(board) >= 3)
    events: list[HandEvent] = [BetReturned(user, chips) for user, chips in returned.items()]
    live = [p for p in players if not p.folded]
    values: dict[str, HandValue] = {}
    if len(live) > 1:
        values = {p.user_id: evaluate(p.hole, board) for p in live}
        shown = tuple(
            ShownHand(
                p.user_id, tuple(p.hole), values[p.user_id].category, values[p.user_id].best_five
            )
            for p in live
        )
        events.append(Showdown(shown))
    results: list[PotResult] = []
    payouts: dict[str, int] = {}
    for pot in pots:
        winners = best_players(values, pot.eligible) if values else list(pot.eligible)
        shares = split_pot(pot.net, winners)
        for user, chips in shares.items():
            payouts[user] = payouts.get(user, 0) + chips
        results.append(PotResult(pot.amount, pot.rake, pot.eligible, tuple(winners), shares))
    final = {
        p.user_id: p.stack + returned.get(p.user_id, 0) + payouts.get(p.user_id, 0) for p in players
    }
    result = HandResult(
        hand_id=hand_id,
        pots=tuple(results),
        rake=total_rake(pots),
        payouts=payouts,
        returned=returned,
        final_stacks=final,
        shown={p.user_id: tuple(p.hole) for p in live} if values else {},
        board=tuple(board),
        showdown=bool(values),
    )
    return result, events
