"""A `Batch` of money commands prepared in order, each by its command's one prepare step."""

from __future__ import annotations

from collections.abc import Sequence

from domain.balance.book import BalanceBook
from domain.balance.commands import (
    BatchCommand,
    CommitReservation,
    Credit,
    Debit,
    ReleaseReservation,
    Reserve,
)
from domain.balance.requests import Prepared
from domain.balance.types import Mutation, ReservationResult
from domain.errors import DomainError

Step = Prepared[Mutation | ReservationResult]


async def prepare_batch(
    book: BalanceBook, commands: Sequence[BatchCommand | DomainError]
) -> list[Step | DomainError]:
    """Each command as a step, or why it is refused; a refusal passed in stays one.

    The holders of the reservations the batch resolves are read in one round trip first; a
    reservation the batch itself makes further up (with a chosen id) is its reserver's.
    """
    await book.reservations.holders.look_up(
        c.reservation_id for c in commands if isinstance(c, CommitReservation | ReleaseReservation)
    )
    planned: dict[str, str] = {}
    steps: list[Step | DomainError] = []
    for command in commands:
        if isinstance(command, DomainError):
            steps.append(command)
            continue
        try:
            steps.append(await _prepare(book, command, planned))
        except DomainError as err:
            steps.append(err)
        if isinstance(command, Reserve) and command.reservation_id:
            planned.setdefault(command.reservation_id, command.account_id)
    return steps


async def _prepare(book: BalanceBook, command: BatchCommand, planned: dict[str, str]) -> Step:
    if isinstance(command, Credit):
        return await book.accounts.prepare_credit(command)
    if isinstance(command, Debit):
        return await book.accounts.prepare_debit(command)
    if isinstance(command, Reserve):
        return await book.reservations.prepare_reserve(command)
    if isinstance(command, CommitReservation):
        return await book.reservations.prepare_commit(command, planned)
    return await book.reservations.prepare_release(command, planned)
