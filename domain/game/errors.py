"""Domain errors of the poker engine: plain exceptions with explicit fields, no transport codes."""

from __future__ import annotations


class GameError(Exception):
    """Base of every poker engine error."""


class InvalidRules(GameError):
    """A table setting is out of range."""

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(f"invalid table rule {field}: {reason}")
        self.field = field
        self.reason = reason


class InvalidDeck(GameError):
    """A deck is not a permutation of the 52 standard cards, or a card is malformed."""

    def __init__(self, reason: str) -> None:
        super().__init__(f"invalid deck: {reason}")
        self.reason = reason


class InvalidSetup(GameError):
    """A hand cannot start with these seats, button or deck."""

    def __init__(self, reason: str) -> None:
        super().__init__(f"cannot start hand: {reason}")
        self.reason = reason


class NotInHand(GameError):
    """The user was not dealt into this hand."""

    def __init__(self, user_id: str) -> None:
        super().__init__(f"user {user_id!r} is not in this hand")
        self.user_id = user_id


class HandOver(GameError):
    """The hand has ended; no further actions are accepted."""

    def __init__(self, hand_id: str) -> None:
        super().__init__(f"hand {hand_id!r} is over")
        self.hand_id = hand_id


class NotYourTurn(GameError):
    """Someone other than the player to act tried to act."""

    def __init__(self, user_id: str, to_act: str | None) -> None:
        super().__init__(f"user {user_id!r} cannot act: it is {to_act!r}'s turn")
        self.user_id = user_id
        self.to_act = to_act


class IllegalAction(GameError):
    """The action (or its amount) is not legal for the player to act right now."""

    def __init__(self, action: str, legal: list[str], reason: str) -> None:
        super().__init__(f"illegal action {action!r} ({reason}); legal: {legal}")
        self.action = action
        self.legal = legal
        self.reason = reason
