"""Table settings of a No-Limit Hold'em cash table, validated on construction."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from domain.game.errors import InvalidRules

MIN_SEATS = 2
MAX_SEATS = 10
BPS = 10_000  # basis points in 100 %


@dataclass(frozen=True, kw_only=True)
class TableRules:
    """Blinds, buy-in range, seat count, action timeout and rake of one table (all integers).

    `rake_bps` is the rake in basis points of each pot (500 = 5 %), rounded down; `rake_cap`
    caps the total rake of one hand in chips. Invalid values raise `InvalidRules(field, reason)`.
    """

    small_blind: int
    big_blind: int
    min_buy_in: int
    max_buy_in: int
    rake_cap: int
    max_seats: int = 9
    action_timeout_seconds: int = 30
    rake_bps: int = 500

    def __post_init__(self) -> None:
        for name, value in asdict(self).items():
            # bool is an int subclass and floats would smuggle fractional chips in.
            if type(value) is not int:
                raise InvalidRules(name, f"must be an integer, got {value!r}")
        if self.small_blind < 1:
            raise InvalidRules("small_blind", "must be at least 1")
        if self.big_blind < self.small_blind:
            raise InvalidRules("big_blind", "must be at least the small blind")
        if self.min_buy_in < self.big_blind:
            raise InvalidRules("min_buy_in", "must be at least the big blind")
        if self.max_buy_in < self.min_buy_in:
            raise InvalidRules("max_buy_in", "must be at least the minimum buy-in")
        if not MIN_SEATS <= self.max_seats <= MAX_SEATS:
            raise InvalidRules("max_seats", f"must be between {MIN_SEATS} and {MAX_SEATS}")
        if self.action_timeout_seconds < 1:
            raise InvalidRules("action_timeout_seconds", "must be at least 1")
        if not 0 <= self.rake_bps <= BPS:
            raise InvalidRules("rake_bps", f"must be between 0 and {BPS}")
        if self.rake_cap < 0:
            raise InvalidRules("rake_cap", "must not be negative")

    def to_dict(self) -> dict[str, int]:
        """Return the settings as a JSON-safe dict."""
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> TableRules:
        """Build (and validate) settings from `to_dict` output."""
        return cls(**data)
