"""Pure rules engine of No-Limit Texas Hold'em cash games (2 to 10 seats).

The engine modules (cards, rules, seating, dealing, betting, pots, evaluation, settle, events,
view: the read side of a hand, hand: its transitions, errors) import only the standard library
and pokerkit; no I/O. They run inside a Temporal workflow, so they draw no randomness, read no
clock and keep no global state: a hand is fully determined by (hand_id, rules, seats, button
seat, deck order, applied actions). Chips are ints everywhere.

Public API
    cards:      FULL_DECK, validate_deck(deck), shuffle(deck, rng), stack_deck(top),
                deck_commitment(deck, salt), verify_commitment(deck, salt, commitment)
    rules:      TableRules(*, small_blind, big_blind, min_buy_in, max_buy_in, rake_cap,
                max_seats=9, action_timeout_seconds=30, rake_bps=500)
    seating:    SeatStack(seat, user_id, stack), next_button(seats_with_chips, previous_button)
    hand:       Hand.start(hand_id, rules, seats, button_seat, deck) -> (Hand, events);
                apply(user_id, action, amount=None) -> events; fold_out(user_id) -> events;
                legal_actions(user_id) -> LegalActions; timeout_action(user_id);
                to_act, street, board, players, pot_total, stacks, street_bets, folded,
                all_in, is_over, result, actions, hole_cards(u), contributed(u), snapshot();
                Hand.replay(hand_id, rules, seats, button_seat, deck, actions),
                to_dict() / Hand.from_dict(data) (JSON-safe replay arguments, deck included)
    pots:       return_uncalled, build_pots, split_pot, apply_rake
    evaluation: evaluate(hole, board) -> HandValue, best_players(values, eligible)

Seats are 0..max_seats-1 clockwise; "left of" means the next higher seat, wrapping. Only
seats with a stack > 0 are dealt in; the button must be one of them. Heads-up the button posts
the small blind, acts first preflop and last after the flop. With three or more, the small
blind sits left of the button, the big blind next, and the player left of the big blind acts
first preflop; after the flop the first live player left of the button acts first. A stack
shorter than its blind posts what it has (all-in); the others still face the full big blind.

Dealing order (n players dealt in, positions 0..n-1 counted left of the button, the button
last; deck[0] is dealt first): hole cards one at a time in two passes, so position i gets
deck[i] and deck[n + i]; then burn deck[2n], flop deck[2n+1 : 2n+4], burn deck[2n+4], turn
deck[2n+5], burn deck[2n+6], river deck[2n+7]. The deck must be a permutation of all 52 cards.

Actions: fold, check, call, bet, raise, all_in. `amount` is given only for bet/raise and is
the street total the player reaches ("raise to"). Minimum bet is the big blind, minimum
raise-to the current bet plus the last full raise, maximum the player's stack; less than the
minimum is legal only as the whole stack (all_in does the same). Checking facing a bet and
calling with nothing to call are illegal; folding is always allowed in turn. A short all-in
(less than a full bet or raise) does not reopen the betting for players who already acted,
unless the increases since they acted add up to a full raise (TDA rule 47). No raise is
offered when no opponent could put in more than the current bet. Errors (NotYourTurn,
IllegalAction, HandOver, NotInHand) leave the hand unchanged. `fold_out` folds a leaving
player at once, even out of turn, and play moves on if it was their turn; it is a no-op for
an all-in player, whose chips stay in for the showdown. `timeout_action` is check if legal,
else fold. When one player is left the hand ends at once; when at most one player can still
bet, the board is run out and the hand shown down.

Chips: every chip moving from a stack into the pot is an event's `chips_in`, so their sum is
`pot_total`, and stacks + pot_total is constant. At the end the unmatched part of the top bet
goes back (`bet.returned`, no pot, never raked), the rest forms a main pot and side pots by
all-in level; folded players' chips stay in the pots. Rake is rake_bps of each pot rounded
down, capped at rake_cap per hand, and nothing when no flop was dealt ("no flop, no drop").
Odd chips of a split pot go one each to the winners in seat order starting left of the
button. sum(result.final_stacks) + result.rake == sum(starting stacks).

Events (frozen dataclasses with a `kind`): hand.started, blind.posted, player.acted,
street.dealt, bet.returned, showdown, hand.ended (carrying the HandResult).
"""

from __future__ import annotations

from domain.game.betting import ACTIONS, STREETS, LegalActions
from domain.game.cards import (
    FULL_DECK,
    deck_commitment,
    shuffle,
    stack_deck,
    validate_deck,
    verify_commitment,
)
from domain.game.errors import (
    GameError,
    HandOver,
    IllegalAction,
    InvalidDeck,
    InvalidRules,
    InvalidSetup,
    NotInHand,
    NotYourTurn,
)
from domain.game.evaluation import HandValue, best_players, evaluate
from domain.game.events import (
    BetReturned,
    BlindPosted,
    HandEnded,
    HandEvent,
    HandResult,
    HandStarted,
    PlayerActed,
    PotResult,
    Showdown,
    ShownHand,
    StreetDealt,
)
from domain.game.hand import ActionRecord, Hand
from domain.game.pots import Pot, apply_rake, build_pots, return_uncalled, split_pot
from domain.game.rules import TableRules
from domain.game.seating import SeatStack, next_button

__all__ = [
    "ACTIONS",
    "FULL_DECK",
    "STREETS",
    "ActionRecord",
    "BetReturned",
    "BlindPosted",
    "GameError",
    "Hand",
    "HandEnded",
    "HandEvent",
    "HandOver",
    "HandResult",
    "HandStarted",
    "HandValue",
    "IllegalAction",
    "InvalidDeck",
    "InvalidRules",
    "InvalidSetup",
    "LegalActions",
    "NotInHand",
    "NotYourTurn",
    "PlayerActed",
    "Pot",
    "PotResult",
    "SeatStack",
    "Showdown",
    "ShownHand",
    "StreetDealt",
    "TableRules",
    "apply_rake",
    "best_players",
    "build_pots",
    "deck_commitment",
    "evaluate",
    "next_button",
    "return_uncalled",
    "shuffle",
    "split_pot",
    "stack_deck",
    "validate_deck",
    "verify_commitment",
]
