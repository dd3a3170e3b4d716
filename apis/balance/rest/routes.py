"""The `/api` routes: accounts, their transactions, ledgers and reservations."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request, Response

from apis.balance.rest.middleware import claims_of
from apis.balance.rest.schemas import (
    AmountBody,
    CommitBody,
    ReserveBody,
    account_json,
    reservation_json,
    transaction_json,
)
from apis.balance.rpc.auth import may_act_on, resolves_reservation
from apis.problems import PROBLEM_RESPONSES
from domain.balance.book import BalanceBook
from domain.balance.commands import ReleaseReservation
from domain.balance.types import Mutation, ReservationResult
from domain.balance.validation import MAX_LEDGER_SEQ

router = APIRouter(prefix="/api", responses=PROBLEM_RESPONSES)


async def book_of(request: Request) -> BalanceBook:
    """The app's BalanceBook."""
    book: BalanceBook = request.app.state.book
    return book


Book = Annotated[BalanceBook, Depends(book_of)]


async def own_account(account_id: str, request: Request) -> str:
    """The path's account, if the caller may act on it."""
    may_act_on(claims_of(request), account_id)
    return account_id


Account = Annotated[str, Depends(own_account)]


@router.put(
    "/accounts/{account_id}",
    summary="Open an account with zero chips (idempotent)",
    responses={201: {"description": "Opened now"}, 200: {"description": "It was open already"}},
)
async def ensure_account(account_id: Account, book: Book, response: Response) -> dict[str, Any]:
    account, created = await book.accounts.ensure(account_id)
    response.status_code = 201 if created else 200
    return {**account_json(account), "created": created}


@router.get("/accounts/{account_id}/balance", summary="Balance, reserved and available chips")
async def get_balance(account_id: Account, book: Book, response: Response) -> dict[str, Any]:
    account = await book.accounts.get_balance(account_id)
    if account.stale:
        response.headers["Warning"] = '110 - "Redis is unreachable; last known figures"'
    return account_json(account)


@router.post("/accounts/{account_id}/deposit", summary="Credit chips (Idempotency-Key required)")
async def deposit(
    account_id: Account, body: AmountBody, book: Book, request: Request
) -> dict[str, Any]:
    result = await book.accounts.credit(body.credit(account_id, request.state.idempotency_key))
    return _mutation_json(result, request)


@router.post("/accounts/{account_id}/withdraw", summary="Debit chips (Idempotency-Key required)")
async def withdraw(
    account_id: Account, body: AmountBody, book: Book, request: Request
) -> dict[str, Any]:
    result = await book.accounts.debit(body.debit(account_id, request.state.idempotency_key))
    return _mutation_json(result, request)


@router.get("/accounts/{account_id}/transactions", summary="Newest transactions first")
async def transactions(
    account_id: Account, book: Book, limit: Annotated[int, Query(ge=1, le=500)] = 50
) -> dict[str, Any]:
    found = await book.accounts.transactions(account_id, limit)
    return {"account_id": account_id, "transactions": [transaction_json(t) for t in found]}


@router.get("/accounts/{account_id}/ledger", summary="Checksum-chained ledger entries")
async def ledger(
    account_id: Account,
    book: Book,
    from_seq: Annotated[int, Query(ge=1, le=MAX_LEDGER_SEQ)] = 1,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> dict[str, Any]:
    entries = await book.ledger.entries(account_id, from_seq, limit)
    return {"account_id": account_id, "entries": [vars(e) for e in entries]}


@router.get("/accounts/{account_id}/ledger/verify", summary="Verify the whole chain now")
async def verify_ledger(account_id: Account, book: Book) -> dict[str, Any]:
    await book.accounts.get_balance(account_id)
    return vars(await book.ledger.verify(account_id))


@router.get("/accounts/{account_id}/reservations", summary="PENDING reservations")
async def active_reservations(account_id: Account, book: Book) -> dict[str, Any]:
    found = await book.reservations.active(account_id)
    return {"account_id": account_id, "reservations": [reservation_json(r) for r in found]}


@router.post("/accounts/{account_id}/reservations", summary="Reserve chips (two-phase)")
async def reserve(
    account_id: Account, body: ReserveBody, book: Book, request: Request
) -> dict[str, Any]:
    command = body.reserve(account_id, request.state.idempotency_key)
    return _reservation_answer(await book.reservations.reserve(command), request)


@router.post(
    "/reservations/{reservation_id}/commit",
    summary="Commit all or part, optionally into another account",
)
async def commit(
    reservation_id: str, body: CommitBody, book: Book, request: Request
) -> dict[str, Any]:
    command = body.commit(reservation_id, request.state.idempotency_key)
    await resolves_reservation(book, claims_of(request), command)
    return _reservation_answer(await book.reservations.commit(command), request)


@router.post("/reservations/{reservation_id}/release", summary="Release the reserved chips")
async def release(reservation_id: str, book: Book, request: Request) -> dict[str, Any]:
    command = ReleaseReservation(
        reservation_id=reservation_id, idempotency_key=request.state.idempotency_key
    )
    await resolves_reservation(book, claims_of(request), command)
    return _reservation_answer(await book.reservations.release(command), request)


@router.get("/economy", summary="Chip supply and circulation velocity")
async def economy(book: Book) -> dict[str, Any]:
    supply, velocity = await book.economy.sample()
    return {"chip_supply": supply, "circulation_velocity_per_hour": velocity}


def _reservation_answer(result: ReservationResult, request: Request) -> dict[str, Any]:
    request.state.replayed = result.replayed
    answer = {
        **account_json(result.account),
        "reservation": reservation_json(result.reservation),
        "replayed": result.replayed,
    }
    if result.to_account is not None:
        answer["to_account"] = account_json(result.to_account)
    return answer


def _mutation_json(result: Mutation, request: Request) -> dict[str, Any]:
    """The answer to a deposit or withdrawal; tells the idempotency middleware if replayed."""
    request.state.replayed = result.replayed
    return {
        **account_json(result.account),
        "transaction": transaction_json(result.transaction),
        "replayed": result.replayed,
    }
