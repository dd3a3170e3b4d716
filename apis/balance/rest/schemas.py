"""Request and response bodies of the HTTP front."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from domain.balance.commands import CommitReservation, Credit, Debit, Reserve
from domain.balance.types import AccountBalance, Reservation, Transaction


class AmountBody(BaseModel):
    """A deposit or withdrawal: whole chips, never a float or a string."""

    model_config = ConfigDict(extra="forbid")

    amount: int = Field(strict=True, description="Chips, a positive integer")
    source: str = Field("", description="Transaction source; DEPOSIT / WITHDRAWAL when empty")
    expected_version: int | None = Field(
        None, strict=True, description="Refuse with VERSION_CONFLICT unless the account is here"
    )
    reference: str = ""

    def credit(self, account_id: str, idempotency_key: str) -> Credit:
        """The deposit as a command."""
        return Credit(
            account_id=account_id,
            amount=self.amount,
            idempotency_key=idempotency_key,
            source=self.source,
            reference=self.reference,
            expected_version=self.expected_version,
        )

    def debit(self, account_id: str, idempotency_key: str) -> Debit:
        """The withdrawal as a command."""
        return Debit(
            account_id=account_id,
            amount=self.amount,
            idempotency_key=idempotency_key,
            source=self.source,
            reference=self.reference,
            expected_version=self.expected_version,
        )


class ReserveBody(BaseModel):
    """Hold chips for a later commit or release."""

    model_config = ConfigDict(extra="forbid")

    amount: int = Field(strict=True)
    ttl_seconds: int = Field(60, strict=True)
    reservation_id: str = ""
    source: str = ""
    reference: str = ""

    def reserve(self, account_id: str, idempotency_key: str) -> Reserve:
        """The reservation as a command."""
        return Reserve(
            account_id=account_id,
            amount=self.amount,
            ttl_seconds=self.ttl_seconds,
            idempotency_key=idempotency_key,
            reservation_id=self.reservation_id,
            source=self.source,
            reference=self.reference,
        )


class CommitBody(BaseModel):
    """How much of a reservation to take (0 takes all of it), and where the chips go."""

    model_config = ConfigDict(extra="forbid")

    amount: int = Field(0, strict=True)
    to_account_id: str = Field(
        "", description="Credit the committed chips to this account, in the same step (services)"
    )
    source: str = Field("", description="That credit's source; the reservation's when empty")

    def commit(self, reservation_id: str, idempotency_key: str) -> CommitReservation:
        """The commit as a command."""
        return CommitReservation(
            reservation_id=reservation_id,
            idempotency_key=idempotency_key,
            amount=self.amount,
            to_account_id=self.to_account_id,
            source=self.source,
        )


def account_json(account: AccountBalance) -> dict[str, Any]:
    """An account's figures."""
    return account.to_json()


def transaction_json(tx: Transaction) -> dict[str, Any]:
    """A transaction."""
    return {
        "id": tx.id,
        "account_id": tx.account_id,
        "type": tx.type,
        "source": tx.source,
        "amount": tx.amount,
        "reserved_delta": tx.reserved_delta,
        "balance_after": tx.balance_after,
        "reserved_after": tx.reserved_after,
        "reservation_id": tx.reservation_id,
        "reference": tx.reference,
        "idempotency_key": tx.idempotency_key,
        "created_at_ms": tx.created_at_ms,
    }


def reservation_json(res: Reservation) -> dict[str, Any]:
    """A reservation."""
    return {
        "reservation_id": res.reservation_id,
        "account_id": res.account_id,
        "amount": res.amount,
        "status": res.status.value,
        "committed_amount": res.committed_amount,
        "expires_at_ms": res.expires_at_ms,
        "created_at_ms": res.created_at_ms,
        "source": res.source,
        "reference": res.reference,
    }
