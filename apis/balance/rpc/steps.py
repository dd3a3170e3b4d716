"""BalanceService requests as domain commands, and a Batch's operations as checked steps.

The single calls and Batch build their commands here and hand them to the same prepare step
of each command in the domain (`domain/balance/batch.py` for a batch).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from apis.balance.rpc.auth import Policy, acts_on_account, resolves_reservation
from domain.balance.batch import Step, prepare_batch
from domain.balance.book import BalanceBook
from domain.balance.commands import (
    BatchCommand,
    CancelPot,
    CommitReservation,
    CreatePot,
    Credit,
    Debit,
    RecordContribution,
    ReleaseReservation,
    Reserve,
    SettlePot,
)
from domain.balance.pots import SidePot
from domain.errors import DomainError, ValidationFailed
from infra.tokens import Claims
from protos.balance.v1 import balance_pb2 as pb

MAX_BATCH_OPERATIONS = 1000


def _version(request: Any) -> int | None:
    return int(request.expected_version) if request.HasField("expected_version") else None


def credit(request: pb.CreditRequest) -> Credit:
    """The command of a Credit request."""
    return Credit(
        account_id=request.account_id,
        amount=request.amount,
        idempotency_key=request.idempotency_key,
        source=request.source,
        reference=request.reference,
        expected_version=_version(request),
    )


def debit(request: pb.DebitRequest) -> Debit:
    """The command of a Debit request."""
    return Debit(
        account_id=request.account_id,
        amount=request.amount,
        idempotency_key=request.idempotency_key,
        source=request.source,
        reference=request.reference,
        expected_version=_version(request),
    )


def reserve(request: pb.ReserveRequest) -> Reserve:
    """The command of a Reserve request."""
    return Reserve(
        account_id=request.account_id,
        amount=request.amount,
        ttl_seconds=request.ttl_seconds,
        idempotency_key=request.idempotency_key,
        reservation_id=request.reservation_id,
        source=request.source,
        reference=request.reference,
        expected_version=_version(request),
    )


def commit(request: pb.CommitReservationRequest) -> CommitReservation:
    """The command of a CommitReservation request."""
    return CommitReservation(
        reservation_id=request.reservation_id,
        idempotency_key=request.idempotency_key,
        amount=request.amount,
        to_account_id=request.to_account_id,
        source=request.source,
    )


def release(request: pb.ReleaseReservationRequest) -> ReleaseReservation:
    """The command of a ReleaseReservation request."""
    return ReleaseReservation(
        reservation_id=request.reservation_id, idempotency_key=request.idempotency_key
    )


def create_pot(request: pb.CreatePotRequest) -> CreatePot:
    """The command of a CreatePot request."""
    return CreatePot(table_id=request.table_id, hand_id=request.hand_id)


def contribution(request: pb.RecordContributionRequest) -> RecordContribution:
    """The command of a RecordContribution request."""
    return RecordContribution(
        table_id=request.table_id,
        hand_id=request.hand_id,
        account_id=request.account_id,
        amount=request.amount,
        idempotency_key=request.idempotency_key,
        reservation_id=request.reservation_id,
    )


def settle_pot(request: pb.SettlePotRequest) -> SettlePot:
    """The command of a SettlePot request."""
    return SettlePot(
        table_id=request.table_id,
        hand_id=request.hand_id,
        side_pots=[SidePot(p.amount, list(p.winner_ids)) for p in request.side_pots],
        idempotency_key=request.idempotency_key,
        rake=request.rake,
        house_account_id=request.house_account_id,
    )


def cancel_pot(request: pb.CancelPotRequest) -> CancelPot:
    """The command of a CancelPot request."""
    return CancelPot(
        table_id=request.table_id,
        hand_id=request.hand_id,
        idempotency_key=request.idempotency_key,
    )


# A batch operation's field: who may make it, and its command.
_BY_FIELD: dict[str, tuple[Policy, Callable[[Any], BatchCommand]]] = {
    "credit": (acts_on_account, credit),
    "debit": (acts_on_account, debit),
    "reserve": (acts_on_account, reserve),
    "commit_reservation": (resolves_reservation, commit),
    "release_reservation": (resolves_reservation, release),
}


async def batch_steps(
    book: BalanceBook, claims: Claims, request: pb.BatchRequest
) -> list[Step | DomainError]:
    """Each operation of a batch as a step, or why that one operation is refused."""
    count = len(request.operations)
    if not 1 <= count <= MAX_BATCH_OPERATIONS:
        raise ValidationFailed(f"a batch holds 1 to {MAX_BATCH_OPERATIONS} operations, not {count}")
    commands: list[BatchCommand | DomainError] = []
    for op in request.operations:
        field = op.WhichOneof("operation")
        try:
            if field is None:
                raise ValidationFailed("the operation is empty: set one of its fields")
            policy, command_of = _BY_FIELD[field]
            operation = getattr(op, field)
            await policy(book, claims, operation)
            commands.append(command_of(operation))
        except DomainError as err:
            commands.append(err)
    return await prepare_batch(book, commands)
