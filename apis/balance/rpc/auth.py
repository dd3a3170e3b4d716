"""Who may call the gRPC front: a JWT in metadata `authorization: Bearer <token>` (apis/auth.py).

Each BalanceService method declares one policy (`@rpc(policy)` in servicer.py); Batch applies
the policy of each operation's kind to that operation.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from grpc import aio

from apis.auth import authenticate, bearer_token, require_acting_for, require_service
from domain.balance.book import BalanceBook
from infra.tokens import Claims

# May this caller make this request? Raises FORBIDDEN (or NOT_FOUND for an unknown reservation).
Policy = Callable[[BalanceBook, Claims, Any], Awaitable[None]]


def caller(context: aio.ServicerContext[Any, Any], secret: str) -> Claims:
    """The verified claims of the call's token; UNAUTHENTICATED without a valid one."""
    header: str | bytes | None = None
    for key, value in context.invocation_metadata() or ():
        if key == "authorization":
            header = value
    return authenticate(secret, bearer_token(header))


def may_act_on(claims: Claims, account_id: str) -> None:
    """Service tokens act on any account; user tokens only on their own."""
    require_acting_for(claims, account_id)


def service_only(claims: Claims) -> None:
    """Table pots are moved by the poker service, never by a player."""
    require_service(claims, "only service tokens may move table pots")


async def acts_on_account(book: BalanceBook, claims: Claims, request: Any) -> None:
    """The request's `account_id` is the caller's own, or the caller is a service."""
    may_act_on(claims, request.account_id)


async def resolves_reservation(book: BalanceBook, claims: Claims, request: Any) -> None:
    """A user resolves only their own reservations; crediting another account is for services."""
    if getattr(request, "to_account_id", ""):
        require_service(claims, "only service tokens may commit a reservation to another account")
    if not claims.is_service:
        reservation = await book.reservations.get(request.reservation_id)
        may_act_on(claims, reservation.account_id)


async def moves_pots(book: BalanceBook, claims: Claims, request: Any) -> None:
    """Only services."""
    service_only(claims)


async def per_operation(book: BalanceBook, claims: Claims, request: Any) -> None:
    """Nothing for the call as a whole: each operation is checked on its own."""
