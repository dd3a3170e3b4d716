"""The money commands of the balance service: one small dataclass each, built by every front.

A front (HTTP, gRPC) builds a command from its request and hands it to the one prepare step of
that command in the domain (`AccountService.prepare_credit`, ...), which checks it and turns it
into a script call; a single call and a `Batch` go through the same step.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from domain.balance.pots import SidePot


@dataclass(frozen=True, kw_only=True)
class Credit:
    """Add chips; opens the account on its first credit unless `open_account` is False."""

    account_id: str
    amount: int
    idempotency_key: str
    source: str = ""
    reference: str = ""
    expected_version: int | None = None
    open_account: bool = True


@dataclass(frozen=True, kw_only=True)
class Debit:
    """Take chips from the available balance; never below zero."""

    account_id: str
    amount: int
    idempotency_key: str
    source: str = ""
    reference: str = ""
    expected_version: int | None = None


@dataclass(frozen=True, kw_only=True)
class Reserve:
    """Hold `amount` of the available chips for `ttl_seconds` (the first phase of a transfer)."""

    account_id: str
    amount: int
    ttl_seconds: int
    idempotency_key: str
    reservation_id: str = ""
    source: str = ""
    reference: str = ""
    expected_version: int | None = None


@dataclass(frozen=True, kw_only=True)
class CommitReservation:
    """Take `amount` (0 = all) of a reservation and release the rest.

    With `to_account_id` the committed chips are credited to that account in the same step
    (opened if missing), under `source` (the reservation's own source when empty); without
    it they leave circulation.
    """

    reservation_id: str
    idempotency_key: str
    amount: int = 0
    to_account_id: str = ""
    source: str = ""


@dataclass(frozen=True, kw_only=True)
class ReleaseReservation:
    """Give a reservation's chips back to the available balance."""

    reservation_id: str
    idempotency_key: str


@dataclass(frozen=True, kw_only=True)
class CreatePot:
    """Open the pot of one hand at one table unless it exists."""

    table_id: str
    hand_id: str


@dataclass(frozen=True, kw_only=True)
class RecordContribution:
    """Move chips into a pot from a reservation (committing it) or from the available balance."""

    table_id: str
    hand_id: str
    account_id: str
    amount: int
    idempotency_key: str
    reservation_id: str = ""


@dataclass(frozen=True, kw_only=True)
class SettlePot:
    """Pay each side pot to its winners and the rake to the house; the sums must match."""

    table_id: str
    hand_id: str
    side_pots: Sequence[SidePot]
    idempotency_key: str
    rake: int = 0
    house_account_id: str = ""


@dataclass(frozen=True, kw_only=True)
class CancelPot:
    """Give every contribution back to its contributor."""

    table_id: str
    hand_id: str
    idempotency_key: str


# What a `BalanceService.Batch` may hold.
BatchCommand = Credit | Debit | Reserve | CommitReservation | ReleaseReservation
