"""Domain values to protobuf messages."""

from __future__ import annotations

from typing import Any

from domain.balance.ledger import LedgerEntry
from domain.balance.types import (
    AccountBalance,
    Mutation,
    Pot,
    PotResolution,
    Reservation,
    ReservationResult,
    Transaction,
)
from domain.errors import DomainError
from protos.balance.v1 import balance_pb2 as pb


def figures(account: AccountBalance) -> dict[str, Any]:
    """The balance fields every response carries at its top level."""
    return {
        "account_id": account.account_id,
        "balance": account.balance,
        "reserved": account.reserved,
        "available": account.available,
        "version": account.version,
    }


def balance_message(account: AccountBalance) -> pb.Balance:
    """An account's figures as a message."""
    return pb.Balance(**figures(account))


def transaction_message(tx: Transaction) -> pb.Transaction:
    """A transaction as a message."""
    return pb.Transaction(
        id=tx.id,
        account_id=tx.account_id,
        type=tx.type,
        source=tx.source,
        amount=tx.amount,
        reserved_delta=tx.reserved_delta,
        balance_after=tx.balance_after,
        reserved_after=tx.reserved_after,
        reservation_id=tx.reservation_id,
        reference=tx.reference,
        idempotency_key=tx.idempotency_key,
        created_at_ms=tx.created_at_ms,
    )


def reservation_message(res: Reservation) -> pb.Reservation:
    """A reservation as a message."""
    return pb.Reservation(
        reservation_id=res.reservation_id,
        account_id=res.account_id,
        amount=res.amount,
        status=res.status.value,
        committed_amount=res.committed_amount,
        expires_at_ms=res.expires_at_ms,
        created_at_ms=res.created_at_ms,
        source=res.source,
        reference=res.reference,
    )


def ledger_message(entry: LedgerEntry) -> pb.LedgerEntry:
    """A ledger entry as a message."""
    return pb.LedgerEntry(
        seq=entry.seq,
        account_id=entry.account_id,
        transaction_id=entry.transaction_id,
        type=entry.type,
        source=entry.source,
        amount=entry.amount,
        reserved_delta=entry.reserved_delta,
        balance_after=entry.balance_after,
        reserved_after=entry.reserved_after,
        at_ms=entry.at_ms,
        previous_checksum=entry.previous_checksum,
        checksum=entry.checksum,
    )


def pot_message(pot: Pot) -> pb.Pot:
    """A pot as a message."""
    return pb.Pot(
        table_id=pot.table_id,
        hand_id=pot.hand_id,
        status=pot.status.value,
        total=pot.total,
        contributions=pot.contributions,
    )


def resolution_message(result: PotResolution) -> pb.SettlePotResponse:
    """A settled or cancelled pot as a message."""
    return pb.SettlePotResponse(
        pot=pot_message(result.pot),
        accounts=[balance_message(a) for a in result.accounts],
        payouts=result.payouts,
        rake=result.rake,
        replayed=result.replayed,
    )


def mutation_response(result: Mutation) -> pb.MutationResponse:
    """The answer to a credit or debit: resulting balances and the transaction."""
    return pb.MutationResponse(
        **figures(result.account),
        transaction=transaction_message(result.transaction),
        replayed=result.replayed,
    )


def reservation_response(result: ReservationResult) -> pb.ReservationResponse:
    """The answer to a reserve, commit or release; a commit into an account names it too."""
    return pb.ReservationResponse(
        **figures(result.account),
        reservation=reservation_message(result.reservation),
        replayed=result.replayed,
        to_account=None if result.to_account is None else balance_message(result.to_account),
    )


def batch_result(outcome: Mutation | ReservationResult | DomainError) -> pb.BatchResult:
    """One operation's answer in a batch."""
    if isinstance(outcome, DomainError):
        return pb.BatchResult(error=pb.BatchError(code=outcome.code.value, message=outcome.detail))
    if isinstance(outcome, Mutation):
        return pb.BatchResult(mutation=mutation_response(outcome))
    return pb.BatchResult(reservation=reservation_response(outcome))
