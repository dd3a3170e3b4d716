"""From the engine's events to what a table changes outside: chips, numbered events, lobby.

Deterministic (it runs in the workflow): every public event gets the table's next number, and
every chip moved into a pot gets a key derived from that number, so the activity that applies
them can be retried without showing an event or moving a chip twice.
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from domain.game import Hand, HandEvent, HandResult
from domain.game.money import bet_key
from workflows.game.models import (
    Contribution,
    NumberedEvent,
    Payout,
    PrivateEvent,
    TableEffects,
    TableState,
)


def _result_payload(result: HandResult) -> dict[str, Any]:
    return {
        "hand_id": result.hand_id,
        "pots": [
            {
                "amount": p.amount,
                "rake": p.rake,
                "eligible": list(p.eligible),
                "winners": list(p.winners),
                "shares": p.shares,
            }
            for p in result.pots
        ],
        "rake": result.rake,
        "payouts": result.payouts,
        "returned": result.returned,
        "stacks": result.final_stacks,
        "shown": {user: list(cards) for user, cards in result.shown.items()},
        "board": list(result.board),
        "showdown": result.showdown,
    }


def payouts_of(result: HandResult) -> list[Payout]:
    """Every chip the pot pays out: each winner's shares and each returned bet, by user."""
    paid: dict[str, int] = {}
    for pot in result.pots:
        for user, share in pot.shares.items():
            paid[user] = paid.get(user, 0) + share
    for user, chips in result.returned.items():
        paid[user] = paid.get(user, 0) + chips
    return [Payout(user, amount) for user, amount in sorted(paid.items()) if amount > 0]


COMMITMENT_SCHEME = 'sha256 hex of utf-8 (salt + ":" + concatenated deck cards)'


class TableEvents:
    """Numbers a table's public events and turns engine events into effects."""

    def __init__(self, state: TableState) -> None:
        self._state = state
        self._reveal: dict[str, dict[str, Any]] = {}

    def _number(self, data: dict[str, Any]) -> NumberedEvent:
        self._state.event_seq += 1
        seq = self._state.event_seq
        return NumberedEvent(seq, {"table_id": self._state.config.table_id, "seq": seq, **data})

    def table_event(self, data: dict[str, Any]) -> TableEffects:
        """One public event outside any hand (a seat taken or left)."""
        return TableEffects(self._state.config.table_id, events=[self._number(data)])

    def lobby_update(self, summary: dict[str, Any]) -> TableEffects:
        """The lobby's new line for this table."""
        return TableEffects(self._state.config.table_id, summary=summary)

    def hole_cards(self, hand: Hand) -> list[PrivateEvent]:
        """Each player's two cards, for that player's own channel only."""
        return [
            PrivateEvent(
                user,
                {
                    "kind": "hole.cards",
                    "table_id": self._state.config.table_id,
                    "hand_id": hand.hand_id,
                    "cards": hand.hole_cards(user),
                },
            )
            for user in hand.players
        ]

    def hand_events(
        self,
        hand: Hand,
        events: list[HandEvent],
        *,
        commitment: str | None = None,
        salt: str | None = None,
        timed_out: str | None = None,
    ) -> TableEffects:
        """The effects of engine events: their chips into the pot, the events, the payout."""
        effects = TableEffects(self._state.config.table_id, hand_id=hand.hand_id)
        if commitment is not None and salt is not None:
            self._reveal[hand.hand_id] = {"commitment": commitment, "salt": salt}
        for event in events:
            if event.kind == "hand.ended":
                result = event.result  # type: ignore[union-attr]
                data = {"kind": "hand.ended", **_result_payload(result)}
                start = {s.user_id: s.stack for s in hand.seats}
                data["net"] = {u: result.final_stacks[u] - start[u] for u in result.final_stacks}
                reveal = self._reveal.pop(hand.hand_id, {})
                # Provably fair: the deck and salt behind `hand.started`'s commitment.
                data.update(reveal, deck=list(hand.deck))
                effects.events.append(self._number(data))
                effects.payouts = payouts_of(result)
                effects.rake = result.rake
                continue
            data = {**asdict(event), "hand_id": hand.hand_id}
            if event.kind == "hand.started":
                pending = self._reveal.get(hand.hand_id)
                if pending is not None:
                    data["deck_commitment"] = pending["commitment"]
                    data["commitment_scheme"] = COMMITMENT_SCHEME
                data.update(small_blind=hand.rules.small_blind, big_blind=hand.rules.big_blind)
            if timed_out is not None and event.kind == "player.acted":
                data["timed_out"] = event.user_id == timed_out  # type: ignore[union-attr]
            numbered = self._number(data)
            chips = int(data.get("chips_in", 0))
            if chips > 0:
                user = str(data["user_id"])
                effects.contributions.append(
                    Contribution(user, chips, bet_key(hand.hand_id, user, numbered.seq))
                )
            effects.events.append(numbered)
        return effects

    @staticmethod
    def merge(batch: list[TableEffects]) -> TableEffects:
        """One effect doing what the batch does, in the same order."""
        first = batch[0]
        merged = TableEffects(first.table_id, hand_id=first.hand_id, open_pot=first.open_pot)
        for effects in batch:
            merged.hand_id = merged.hand_id or effects.hand_id
            merged.contributions += effects.contributions
            merged.events += effects.events
            merged.private += effects.private
            if effects.payouts is not None:
                merged.payouts = effects.payouts
                merged.rake = effects.rake
            merged.summary = effects.summary or merged.summary
        return merged

    @staticmethod
    def describe(effects: TableEffects) -> str:
        """A line for the Temporal UI: what this step moves and shows."""
        parts = []
        if effects.open_pot:
            parts.append(f"open pot {effects.hand_id}")
        if effects.contributions:
            parts.append(f"{sum(c.amount for c in effects.contributions)} chips into the pot")
        if effects.payouts is not None:
            parts.append(f"settle {effects.hand_id} (rake {effects.rake})")
        kinds = [str(e.data.get("kind")) for e in effects.events]
        if kinds:
            parts.append(", ".join(kinds))
        if effects.summary is not None:
            parts.append("lobby")
        return "; ".join(parts) or "nothing"
