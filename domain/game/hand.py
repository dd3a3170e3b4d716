"""The No-Limit Hold'em hand state machine: blinds, four betting rounds, runout, settlement.

Deterministic given (hand_id, rules, seats, button, deck, actions); the package docstring
describes the dealing order and the rules it enforces.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict
from typing import Any

from domain.game.betting import STREETS, legal_actions, needs_action, resolve
from domain.game.dealing import board_cards
from domain.game.errors import HandOver, NotInHand, NotYourTurn
from domain.game.events import (
    BlindPosted,
    HandEnded,
    HandEvent,
    HandStarted,
    PlayerActed,
    StreetDealt,
)
from domain.game.rules import TableRules
from domain.game.seating import SeatStack
from domain.game.settle import settle
from domain.game.view import ActionRecord, HandView

FOLD_OUT = "fold_out"  # the action-log entry `Hand.fold_out` leaves for `replay`

__all__ = ["FOLD_OUT", "ActionRecord", "Hand"]


class Hand(HandView):
    """One hand of No-Limit Hold'em; build it with `Hand.start`, `replay` or `from_dict`."""

    @classmethod
    def start(
        cls,
        hand_id: str,
        rules: TableRules,
        seats: Sequence[SeatStack],
        button_seat: int,
        deck: Sequence[str],
    ) -> tuple[Hand, list[HandEvent]]:
        """Deal a hand from `deck`, post the blinds and return it with its opening events."""
        hand = cls(hand_id, rules, seats, button_seat, deck)
        return hand, hand._open()

    @classmethod
    def replay(
        cls,
        hand_id: str,
        rules: TableRules,
        seats: Sequence[SeatStack],
        button_seat: int,
        deck: Sequence[str],
        actions: Iterable[ActionRecord],
    ) -> Hand:
        """Rebuild a hand by starting it again and re-applying the logged actions."""
        hand, _ = cls.start(hand_id, rules, seats, button_seat, deck)
        for record in actions:
            if record.action == FOLD_OUT:
                hand.fold_out(record.user_id)
            else:
                hand.apply(record.user_id, record.action, record.amount)
        return hand

    def to_dict(self) -> dict[str, Any]:
        """Return the JSON-safe replay arguments (with the secret deck: keep it server-side)."""
        return {
            "hand_id": self.hand_id,
            "rules": self.rules.to_dict(),
            "seats": [asdict(s) for s in self.seats],
            "button_seat": self.button_seat,
            "deck": list(self.deck),
            "actions": [asdict(a) for a in self._log],
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Hand:
        """Rebuild a hand from `to_dict` output."""
        return cls.replay(
            data["hand_id"],
            TableRules.from_dict(data["rules"]),
            [SeatStack(**s) for s in data["seats"]],
            data["button_seat"],
            data["deck"],
            [ActionRecord(**a) for a in data["actions"]],
        )

    def timeout_action(self, user_id: str) -> tuple[str, None]:
        """The action to apply when the player's clock runs out: check if legal, else fold."""
        self._require_turn(user_id)
        return ("check", None) if "check" in self.legal_actions(user_id).actions else ("fold", None)

    def check(self, user_id: str, action: str, amount: int | None = None) -> None:
        """Raise what `apply` would raise for this action, changing nothing (a validator)."""
        index = self._require_turn(user_id)
        player = self._players[index]
        legal = legal_actions(self._players, index, self._current_bet, self._last_raise)
        resolve(action, amount, player, legal)

    def apply(self, user_id: str, action: str, amount: int | None = None) -> list[HandEvent]:
        """Apply the player's action; on any error raise and leave the hand untouched."""
        index = self._require_turn(user_id)
        player = self._players[index]
        legal = legal_actions(self._players, index, self._current_bet, self._last_raise)
        target = resolve(action, amount, player, legal)
        # Validated: nothing below can fail, so an error never leaves a half-applied action.
        self._log.append(ActionRecord(user_id, action, amount))
        chips = target - player.street_bet
        if action == "fold":
            player.folded = True
        player.put_in(chips)
        if target > self._current_bet:
            if target - self._current_bet >= self._last_raise:
                # Only a full raise sets the new minimum increment; a short all-in keeps it.
                self._last_raise = target - self._current_bet
            self._current_bet = target
        player.acted_at = self._current_bet
        acted = PlayerActed(user_id, action, chips, player.stack, player.street_bet, player.all_in)
        return [acted, *self._advance(index + 1)]

    def fold_out(self, user_id: str) -> list[HandEvent]:
        """Fold a leaving player at once, in turn or not; play moves on if it was their turn.

        A no-op (no events) when the hand is over or the player already folded or is all-in:
        an all-in player's chips are committed and they stay in for the showdown. Their chips
        already in the pot stay there as dead money.
        """
        index = self._index.get(user_id)
        if index is None:
            raise NotInHand(user_id)
        player = self._players[index]
        if self._to_act is None or not player.active:
            return []
        self._log.append(ActionRecord(user_id, FOLD_OUT))
        player.folded = True
        acted = PlayerActed(user_id, "fold", 0, player.stack, player.street_bet, False, forced=True)
        # Scanning from the player to act keeps their turn unless they are the one leaving.
        return [acted, *self._advance(self._to_act)]

    def _require_turn(self, user_id: str) -> int:
        if self._to_act is None:
            raise HandOver(self.hand_id)
        if self._index.get(user_id) != self._to_act:
            raise NotYourTurn(user_id, self.to_act)
        return self._to_act

    def _open(self) -> list[HandEvent]:
        players = self._players
        events: list[HandEvent] = [
            HandStarted(
                self.hand_id,
                self.button_seat,
                {p.user_id: p.seat for p in players},
                {p.user_id: p.stack for p in players},
            )
        ]
        # Heads-up the button (last in seat order) posts the small blind, the other the big.
        sb, bb = (1, 0) if len(players) == 2 else (0, 1)
        blinds = ((sb, "small", self.rules.small_blind), (bb, "big", self.rules.big_blind))
        for index, name, blind in blinds:
            p = players[index]
            chips = min(blind, p.stack)  # a short stack posts what it has, all-in
            p.put_in(chips)
            events.append(BlindPosted(p.user_id, name, chips, p.stack, p.street_bet, p.all_in))
        # Everyone faces the full big blind, even when the big blind is all-in for less.
        self._current_bet = self.rules.big_blind
        return events + self._advance(bb + 1)

    def _next_to_act(self, start: int) -> int | None:
        n = len(self._players)
        for step in range(n):
            index = (start + step) % n
            if needs_action(self._players, index, self._current_bet):
                return index
        return None

    def _advance(self, start: int) -> list[HandEvent]:
        if sum(not p.folded for p in self._players) == 1:
            return self._finish()
        self._to_act = self._next_to_act(start)
        if self._to_act is not None:
            return []
        events: list[HandEvent] = []
        # The round is closed: deal on, stopping where two players can still bet; otherwise
        # (everyone, or all but one, all-in) run the board out to the showdown.
        while self._street != STREETS[-1]:
            events.append(self._deal_next_street())
            if sum(p.active for p in self._players) >= 2:
                self._to_act = self._next_to_act(0)  # first live player left of the button
                return events
        return events + self._finish()

    def _deal_next_street(self) -> StreetDealt:
        self._street = STREETS[STREETS.index(self._street) + 1]
        cards = board_cards(self.deck, len(self._players), self._street)
        self._board.extend(cards)
        self._current_bet = 0
        self._last_raise = self.rules.big_blind  # the minimum bet of a new street
        for p in self._players:
            p.street_bet = 0
            p.acted_at = None
        return StreetDealt(self._street, tuple(cards), tuple(self._board))

    def _finish(self) -> list[HandEvent]:
        self._to_act = None
        result, events = settle(self.hand_id, self._players, self._board, self.rules)
        self._result = result
        return [*events, HandEnded(result)]
