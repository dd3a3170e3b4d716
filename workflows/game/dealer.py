"""Dealing a table's next hand: the button moves on, the deck is shuffled and committed to.

Workflow code: the shuffle takes the workflow's deterministic randomness and the salt its
deterministic uuid, so a replay deals the very same cards.
"""

from __future__ import annotations

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from domain.game import (
        FULL_DECK,
        Hand,
        SeatStack,
        TableRules,
        deck_commitment,
        next_button,
        shuffle,
    )
    from domain.game.money import hand_id_for
    from workflows.game.events import TableEvents
    from workflows.game.models import TableEffects, TableState


def deal(state: TableState, rules: TableRules, events: TableEvents) -> tuple[Hand, TableEffects]:
    """The next hand with its blinds posted, and what it changes outside: a pot opened, the
    public opening events (with the deck's salted SHA-256), each player's hole cards."""
    state.hands_played += 1
    hand_id = hand_id_for(state.config.table_id, state.hands_played)
    players = [
        SeatStack(s.seat, s.user_id, s.stack)
        for s in state.seats
        if s.status == "seated" and s.stack > 0
    ]
    state.button = next_button([p.seat for p in players], state.button)
    deck = shuffle(FULL_DECK, workflow.random())
    salt = workflow.uuid4().hex
    hand, opening = Hand.start(hand_id, rules, players, state.button, deck)
    effects = events.hand_events(hand, opening, commitment=deck_commitment(deck, salt), salt=salt)
    effects.open_pot = True
    effects.private = events.hole_cards(hand)
    return hand, effects
