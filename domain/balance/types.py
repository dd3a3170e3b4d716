"""What the balance service stores and answers: balances, transactions, reservations, pots."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from domain.errors import ValidationFailed


class Source(StrEnum):
    """Why chips moved; the label of the economy metrics."""

    DEPOSIT = "DEPOSIT"
    WITHDRAWAL = "WITHDRAWAL"
    BUY_IN = "BUY_IN"
    CASH_OUT = "CASH_OUT"
    WINNINGS = "WINNINGS"
    RAKE = "RAKE"
    BET = "BET"
    REFUND = "REFUND"
    BONUS = "BONUS"
    ADJUSTMENT = "ADJUSTMENT"


CREDIT_SOURCES = frozenset(
    {
        Source.DEPOSIT,
        Source.CASH_OUT,
        Source.WINNINGS,
        Source.BONUS,
        Source.REFUND,
        Source.ADJUSTMENT,
    }
)
DEBIT_SOURCES = frozenset({Source.WITHDRAWAL, Source.BUY_IN, Source.ADJUSTMENT})


def parse_source(value: str, default: Source, allowed: frozenset[Source]) -> Source:
    """The source named by `value` ('' means `default`) if `allowed`, else VALIDATION_FAILED."""
    if not value:
        return default
    try:
        source = Source(value)
    except ValueError:
        raise ValidationFailed(f"unknown source {value!r}") from None
    if source not in allowed:
        names = ", ".join(sorted(allowed))
        raise ValidationFailed(f"source {value} is not allowed here; use one of {names}")
    return source


class ReservationStatus(StrEnum):
    """A reservation is PENDING until it is resolved, exactly once."""

    PENDING = "PENDING"
    COMMITTED = "COMMITTED"
    RELEASED = "RELEASED"
    EXPIRED = "EXPIRED"


class PotStatus(StrEnum):
    """A pot is OPEN until it is settled or cancelled."""

    OPEN = "OPEN"
    SETTLED = "SETTLED"
    CANCELLED = "CANCELLED"


@dataclass(frozen=True)
class AccountBalance:
    """An account's figures; `available` = `balance` - `reserved`, never below zero."""

    account_id: str
    balance: int
    reserved: int
    version: int
    stale: bool = False

    @property
    def available(self) -> int:
        """Chips that may be debited or reserved."""
        return self.balance - self.reserved

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> AccountBalance:
        """From a script's `account` object."""
        return cls(
            str(data["account_id"]),
            int(data["balance"]),
            int(data["reserved"]),
            int(data["version"]),
        )

    def to_json(self) -> dict[str, Any]:
        """The public shape, as the HTTP front answers it."""
        return {
            "account_id": self.account_id,
            "balance": self.balance,
            "reserved": self.reserved,
            "available": self.available,
            "version": self.version,
            "stale": self.stale,
        }


@dataclass(frozen=True)
class Transaction:
    """One entry of the append-only transaction log."""

    id: str
    account_id: str
    type: str
    source: str
    amount: int
    reserved_delta: int
    balance_after: int
    reserved_after: int
    reservation_id: str
    reference: str
    idempotency_key: str
    created_at_ms: int

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Transaction:
        """From the stored JSON."""
        return cls(
            str(data["id"]),
            str(data["account_id"]),
            str(data["type"]),
            str(data["source"]),
            int(data["amount"]),
            int(data["reserved_delta"]),
            int(data["balance_after"]),
            int(data["reserved_after"]),
            str(data["reservation_id"]),
            str(data["reference"]),
            str(data["idempotency_key"]),
            int(data["created_at_ms"]),
        )


@dataclass(frozen=True)
class Reservation:
    """Chips held for a later commit or release (a two-phase transfer)."""

    reservation_id: str
    account_id: str
    amount: int
    status: ReservationStatus
    committed_amount: int
    expires_at_ms: int
    created_at_ms: int
    source: str
    reference: str

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Reservation:
        """From the stored JSON."""
        return cls(
            str(data["reservation_id"]),
            str(data["account_id"]),
            int(data["amount"]),
            ReservationStatus(data["status"]),
            int(data["committed_amount"]),
            int(data["expires_at_ms"]),
            int(data["created_at_ms"]),
            str(data["source"]),
            str(data["reference"]),
        )


@dataclass(frozen=True)
class Pot:
    """The chips of one hand at one table."""

    table_id: str
    hand_id: str
    status: PotStatus
    total: int
    contributions: dict[str, int] = field(default_factory=dict)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Pot:
        """From the stored JSON (cjson writes an empty map as {} and never as [])."""
        contributions = data.get("contributions") or {}
        return cls(
            str(data["table_id"]),
            str(data["hand_id"]),
            PotStatus(data["status"]),
            int(data["total"]),
            {str(k): int(v) for k, v in dict(contributions).items()},
        )


@dataclass(frozen=True)
class Mutation:
    """What a money change answers: the resulting balances and the transaction it wrote."""

    account: AccountBalance
    transaction: Transaction
    replayed: bool = False


@dataclass(frozen=True)
class ReservationResult:
    """A reservation after reserve, commit or release, with the resulting balances.

    `to_account` is the account a commit credited the chips to, if it named one.
    """

    account: AccountBalance
    reservation: Reservation
    replayed: bool = False
    to_account: AccountBalance | None = None


@dataclass(frozen=True)
class ContributionResult:
    """A pot after a contribution, with the contributor's resulting balances."""

    account: AccountBalance
    pot: Pot
    replayed: bool = False


@dataclass(frozen=True)
class PotResolution:
    """A settled or cancelled pot: who received how much, and their resulting balances."""

    pot: Pot
    accounts: list[AccountBalance]
    payouts: dict[str, int]
    rake: int
    replayed: bool = False


@dataclass(frozen=True)
class ExpiryBatch:
    """What one sweep expired."""

    expired: list[str]
    accounts: list[AccountBalance]
    remaining: int
