"""The read side of a hand: its state and every query a table service or UI needs."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

from domain.game.betting import STREETS, LegalActions, Player, legal_actions
from domain.game.cards import validate_deck
from domain.game.dealing import deal_players
from domain.game.errors import InvalidSetup, NotInHand
from domain.game.events import HandResult
from domain.game.rules import TableRules
from domain.game.seating import SeatStack


@dataclass(frozen=True)
class ActionRecord:
    """One entry of the action log that `Hand.replay` feeds back in."""

    user_id: str
    action: str
    amount: int | None = None


class HandView:
    """State of one hand and read-only queries over it; `Hand` adds the transitions."""

    def __init__(
        self,
        hand_id: str,
        rules: TableRules,
        seats: Sequence[SeatStack],
        button_seat: int,
        deck: Sequence[str],
    ) -> None:
        if not isinstance(hand_id, str) or not hand_id:
            raise InvalidSetup("hand_id must be a non-empty string")
        self.hand_id = hand_id
        self.rules = rules
        self.seats = list(seats)
        self.button_seat = button_seat
        self.deck = validate_deck(deck)
        self._players: list[Player] = deal_players(rules, self.seats, button_seat, self.deck)
        self._index = {p.user_id: i for i, p in enumerate(self._players)}
        self._street = STREETS[0]
        self._board: list[str] = []
        self._current_bet = 0
        self._last_raise = rules.big_blind
        self._to_act: int | None = None
        self._log: list[ActionRecord] = []
        self._result: HandResult | None = None

    @property
    def to_act(self) -> str | None:
        """The user id whose turn it is, or None once the hand is over."""
        return None if self._to_act is None else self._players[self._to_act].user_id

    @property
    def street(self) -> str:
        """The street being bet (or last dealt): preflop, flop, turn or river."""
        return self._street

    @property
    def board(self) -> list[str]:
        """The community cards dealt so far."""
        return list(self._board)

    @property
    def players(self) -> list[str]:
        """User ids dealt in, in seat order left of the button (the button last)."""
        return [p.user_id for p in self._players]

    @property
    def pot_total(self) -> int:
        """All chips put in this hand, equal to the sum of every event's chips_in."""
        return sum(p.total for p in self._players)

    @property
    def stacks(self) -> dict[str, int]:
        """Chips behind per user right now (winnings are in `result.final_stacks`)."""
        return {p.user_id: p.stack for p in self._players}

    @property
    def street_bets(self) -> dict[str, int]:
        """Chips each user put in on the current street."""
        return {p.user_id: p.street_bet for p in self._players}

    @property
    def folded(self) -> set[str]:
        """Users who folded (or were folded out)."""
        return {p.user_id for p in self._players if p.folded}

    @property
    def all_in(self) -> set[str]:
        """Users with no chips behind who are still in the hand."""
        return {p.user_id for p in self._players if p.all_in and not p.folded}

    @property
    def is_over(self) -> bool:
        """True once the hand has settled."""
        return self._result is not None

    @property
    def result(self) -> HandResult | None:
        """The settlement, once the hand is over."""
        return self._result

    @property
    def actions(self) -> list[ActionRecord]:
        """The action log, fold-outs included, that `Hand.replay` accepts."""
        return list(self._log)

    def hole_cards(self, user_id: str) -> list[str]:
        """The two private cards of a player (show them to that player only)."""
        return list(self._player(user_id).hole)

    def contributed(self, user_id: str) -> int:
        """Chips the player put in this hand so far, blinds included."""
        return self._player(user_id).total

    def legal_actions(self, user_id: str) -> LegalActions:
        """What the user may do now; no actions at all when it is not their turn."""
        index = self._index.get(user_id)
        if index is None or index != self._to_act:
            return LegalActions()
        return legal_actions(self._players, index, self._current_bet, self._last_raise)

    def snapshot(self) -> dict[str, Any]:
        """The whole internal state as JSON-safe data (for tests, debugging and queries)."""
        return {
            "street": self._street,
            "board": list(self._board),
            "current_bet": self._current_bet,
            "last_raise": self._last_raise,
            "to_act": self.to_act,
            "players": [asdict(p) for p in self._players],
            "actions": [asdict(a) for a in self._log],
            "result": None if self._result is None else asdict(self._result),
        }

    def _player(self, user_id: str) -> Player:
        index = self._index.get(user_id)
        if index is None:
            raise NotInHand(user_id)
        return self._players[index]
