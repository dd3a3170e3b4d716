"""Betting-round arithmetic over the players of a hand: who must act, what is legal, how much.

Pure functions over `Player` records so the `Hand` can validate an action completely before it
changes anything.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from domain.game.errors import IllegalAction

STREETS: tuple[str, ...] = ("preflop", "flop", "turn", "river")
ACTIONS: tuple[str, ...] = ("fold", "check", "call", "bet", "raise", "all_in")


@dataclass
class Player:
    """One dealt-in player's mutable state during a hand (chips are integers)."""

    user_id: str
    seat: int
    starting_stack: int
    stack: int
    hole: list[str]
    street_bet: int = 0
    total: int = 0
    folded: bool = False
    all_in: bool = False
    # The street's bet level right after this player last acted; None until they act.
    acted_at: int | None = None

    @property
    def active(self) -> bool:
        """True while the player can still act: not folded and chips behind."""
        return not self.folded and not self.all_in

    def put_in(self, chips: int) -> None:
        """Move `chips` from the stack into the pot."""
        self.stack -= chips
        self.street_bet += chips
        self.total += chips
        if self.stack == 0:
            self.all_in = True


@dataclass(frozen=True)
class LegalActions:
    """What the player may do now: action names, chips a call adds, bet/raise-to bounds.

    `min_raise_to`/`max_raise_to` bound the street total a "bet" or "raise" may reach (None
    when neither is legal); `min_raise_to` is below a full raise only when it is the all-in.
    """

    actions: list[str] = field(default_factory=list)
    call_amount: int = 0
    min_raise_to: int | None = None
    max_raise_to: int | None = None


def _others_active(players: Sequence[Player], index: int) -> bool:
    return any(p.active for i, p in enumerate(players) if i != index)


def _someone_covers(players: Sequence[Player], index: int, current_bet: int) -> bool:
    # A raise only makes sense if an opponent could still put in more than the current bet.
    return any(
        p.active and p.street_bet + p.stack > current_bet
        for i, p in enumerate(players)
        if i != index
    )


def call_target(players: Sequence[Player], index: int, current_bet: int) -> int:
    """Return the street total the player must reach to call.

    When every opponent is all-in (or folded) there is nobody to bet against, so the target is
    the largest live opponent's street bet rather than a big blind nobody matched.
    """
    if _others_active(players, index):
        return current_bet
    others = [p.street_bet for i, p in enumerate(players) if i != index and not p.folded]
    return min(current_bet, max(others, default=0))


def needs_action(players: Sequence[Player], index: int, current_bet: int) -> bool:
    """True when the player still has to act before the betting round can close."""
    player = players[index]
    if not player.active:
        return False
    if not _others_active(players, index):
        return player.street_bet < call_target(players, index, current_bet)
    return player.acted_at is None or player.street_bet < current_bet


def legal_actions(
    players: Sequence[Player], index: int, current_bet: int, last_raise: int
) -> LegalActions:
    """Return the legal actions of the player at `index`, assuming it is their turn."""
    player = players[index]
    to_call = max(0, call_target(players, index, current_bet) - player.street_bet)
    max_total = player.street_bet + player.stack
    # A short all-in does not reopen the betting: who already acted may raise again only once
    # the bet has grown by at least a full raise since they acted (TDA rule, cumulative).
    reopened = player.acted_at is None or current_bet - player.acted_at >= last_raise
    covered = _someone_covers(players, index, current_bet)
    can_raise = covered and reopened and max_total > current_bet
    actions = ["fold", "check" if to_call == 0 else "call"]
    low: int | None = None
    high: int | None = None
    if can_raise:
        actions.append("bet" if current_bet == 0 else "raise")
        low, high = min(current_bet + last_raise, max_total), max_total
    if player.stack > 0 and (can_raise or player.stack <= to_call):
        actions.append("all_in")
    return LegalActions(actions, min(to_call, player.stack), low, high)


def _refusal(action: str, legal: LegalActions) -> str:
    if action not in ACTIONS:
        return "unknown action"
    if action == "check":
        return "cannot check facing a bet; call, raise or fold"
    if action == "call":
        return "nothing to call; check instead"
    if action == "bet" and "raise" in legal.actions:
        return "there is already a bet; raise instead"
    if action == "raise" and "bet" in legal.actions:
        return "there is no bet to raise; bet instead"
    return "raising is not open: no opponent can cover more, or no full raise reopened it"


def resolve(action: str, amount: int | None, player: Player, legal: LegalActions) -> int:
    """Return the street total the action brings the player to, or raise IllegalAction.

    A fold returns the current street bet (no chips move). `amount` is the "raise to" total
    for bet/raise and must be None for every other action.
    """
    if action not in legal.actions:
        raise IllegalAction(action, legal.actions, _refusal(action, legal))
    if action in ("bet", "raise"):
        if type(amount) is not int:
            raise IllegalAction(action, legal.actions, "an integer amount is required")
        low, high = legal.min_raise_to, legal.max_raise_to
        if low is None or high is None or not low <= amount <= high:
            raise IllegalAction(action, legal.actions, f"amount must be between {low} and {high}")
        return amount
    if amount is not None:
        raise IllegalAction(action, legal.actions, f"{action} takes no amount")
    if action == "call":
        return player.street_bet + legal.call_amount
    if action == "all_in":
        return player.street_bet + player.stack
    return player.street_bet
