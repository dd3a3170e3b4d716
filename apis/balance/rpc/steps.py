"""BalanceService money requests as checked steps: the caller's right, then the domain's checks.

The single calls (Credit, Debit, Reserve, CommitReservation, ReleaseReservation) run one step;
Batch runs many, in order, in one round trip to Redis. Both build them here.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from apis.balance.rpc.auth import may_act_on
from domain.balance.book import BalanceBook
from domain.balance.scripts import Prepared
from domain.balance.types import Mutation, ReservationResult
from domain.errors import DomainError, ValidationFailed
from infra.tokens import Claims
from protos.balance.v1 import balance_pb2 as pb

MAX_BATCH_OPERATIONS = 1000

Step = Prepared[Mutation | ReservationResult]


def _version(request: Any) -> int | None:
    return int(request.expected_version) if request.HasField("expected_version") else None


async def owner_of(book: BalanceBook, claims: Claims, reservation_id: str) -> None:
    """A user may act only on reservations of their own account; services on any."""
    if not claims.is_service:
        reservation = await book.reservations.get(reservation_id)
        may_act_on(claims, reservation.account_id)


async def credit(
    book: BalanceBook, claims: Claims, request: pb.CreditRequest
) -> Prepared[Mutation]:
    """A credit the caller may make."""
    may_act_on(claims, request.account_id)
    return book.accounts.prepare_credit(
        request.account_id,
        request.amount,
        idempotency_key=request.idempotency_key,
        source=request.source,
        expected_version=_version(request),
        reference=request.reference,
    )


async def debit(book: BalanceBook, claims: Claims, request: pb.DebitRequest) -> Prepared[Mutation]:
    """A debit the caller may make."""
    may_act_on(claims, request.account_id)
    return book.accounts.prepare_debit(
        request.account_id,
        request.amount,
        idempotency_key=request.idempotency_key,
        source=request.source,
        expected_version=_version(request),
        reference=request.reference,
    )


async def reserve(
    book: BalanceBook, claims: Claims, request: pb.ReserveRequest
) -> Prepared[ReservationResult]:
    """A reservation the caller may make."""
    may_act_on(claims, request.account_id)
    return book.reservations.prepare_reserve(
        request.account_id,
        request.amount,
        ttl_seconds=request.ttl_seconds,
        idempotency_key=request.idempotency_key,
        reservation_id=request.reservation_id,
        source=request.source,
        reference=request.reference,
        expected_version=_version(request),
    )


async def commit(
    book: BalanceBook, claims: Claims, request: pb.CommitReservationRequest
) -> Prepared[ReservationResult]:
    """A commit of a reservation the caller may resolve."""
    await owner_of(book, claims, request.reservation_id)
    return book.reservations.prepare_commit(
        request.reservation_id, idempotency_key=request.idempotency_key, amount=request.amount
    )


async def release(
    book: BalanceBook, claims: Claims, request: pb.ReleaseReservationRequest
) -> Prepared[ReservationResult]:
    """A release of a reservation the caller may resolve."""
    await owner_of(book, claims, request.reservation_id)
    return book.reservations.prepare_release(
        request.reservation_id, idempotency_key=request.idempotency_key
    )


_BY_FIELD: dict[str, Callable[[BalanceBook, Claims, Any], Awaitable[Step]]] = {
    "credit": credit,
    "debit": debit,
    "reserve": reserve,
    "commit_reservation": commit,
    "release_reservation": release,
}


async def batch_steps(
    book: BalanceBook, claims: Claims, request: pb.BatchRequest
) -> list[Step | DomainError]:
    """Each operation of a batch as a step, or why that one operation is refused."""
    count = len(request.operations)
    if not 1 <= count <= MAX_BATCH_OPERATIONS:
        raise ValidationFailed(f"a batch holds 1 to {MAX_BATCH_OPERATIONS} operations, not {count}")
    steps: list[Step | DomainError] = []
    for op in request.operations:
        field = op.WhichOneof("operation")
        try:
            if field is None:
                raise ValidationFailed("the operation is empty: set one of its fields")
            steps.append(await _BY_FIELD[field](book, claims, getattr(op, field)))
        except DomainError as err:
            steps.append(err)
    return steps
