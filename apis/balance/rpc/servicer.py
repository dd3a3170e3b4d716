"""`balance.v1.BalanceService`: each method declares who may call it, then calls the domain.

`@rpc(policy)` does what every method shares: it verifies the caller's token, applies the
method's policy, maps a `DomainError` to its gRPC status (apis/errors.py) with the code in
trailing metadata `error-code`, times the call into `saga_balance_grpc_request_seconds` and
writes one log line (method, code, duration, caller's subject, trace id).
"""

from __future__ import annotations

import functools
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any, TypeAlias, TypeVar

from grpc import StatusCode, aio
from prometheus_client import Histogram

from apis.balance.rpc import steps
from apis.balance.rpc.auth import (
    Policy,
    acts_on_account,
    caller,
    moves_pots,
    per_operation,
    resolves_reservation,
)
from apis.balance.rpc.convert import (
    batch_result,
    figures,
    ledger_message,
    mutation_response,
    pot_message,
    reservation_message,
    reservation_response,
    resolution_message,
    transaction_message,
)
from apis.errors import grpc_status
from domain.balance.book import BalanceBook
from domain.errors import DomainError, ErrorCode
from infra.redis import failed_in_client
from infra.tokens import Claims
from protos.balance.v1 import balance_pb2 as pb
from protos.balance.v1 import balance_pb2_grpc as pb_grpc

Req = TypeVar("Req")
Resp = TypeVar("Resp")
Context: TypeAlias = aio.ServicerContext[Any, Any]
Method: TypeAlias = Callable[["BalanceServicer", Req, Claims], Awaitable[Resp]]
Handler: TypeAlias = Callable[["BalanceServicer", Req, Context], Awaitable[Resp]]
log = logging.getLogger(__name__)

GRPC_LATENCY = Histogram(
    "saga_balance_grpc_request_seconds",
    "Time to answer a BalanceService call",
    ["method", "code"],
    buckets=(0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1.0),
)


def rpc(policy: Policy) -> Callable[[Method[Req, Resp]], Handler[Req, Resp]]:
    """A BalanceService method: authenticated, allowed by `policy`, its errors mapped, timed."""

    def decorate(method: Method[Req, Resp]) -> Handler[Req, Resp]:
        name = method.__name__

        @functools.wraps(method)
        async def handler(self: BalanceServicer, request: Req, context: Context) -> Resp:
            started = time.perf_counter()
            code = "OK"
            claims: Claims | None = None
            try:
                claims = caller(context, self.jwt_secret)
                await policy(self.book, claims, request)
                return await method(self, request, claims)
            except DomainError as err:
                code = err.code.value
                await context.abort(
                    grpc_status(err.code), err.detail, (("error-code", err.code.value),)
                )
            except Exception as exc:
                if failed_in_client(exc):
                    code = ErrorCode.UNAVAILABLE.value
                    log.warning("BalanceService.%s: the Redis client failed: %r", name, exc)
                    await context.abort(
                        StatusCode.UNAVAILABLE,
                        "the store did not answer; retry with the same idempotency key",
                        (("error-code", code),),
                    )
                code = ErrorCode.INTERNAL.value
                log.exception("BalanceService.%s failed", name)
                await context.abort(
                    StatusCode.INTERNAL,
                    "an unexpected error occurred; it was logged",
                    (("error-code", code),),
                )
            finally:
                took = time.perf_counter() - started
                GRPC_LATENCY.labels(name, code).observe(took)
                log.info(
                    "BalanceService/%s %s",
                    name,
                    code,
                    extra={
                        "method": name,
                        "code": code,
                        "duration_ms": round(took * 1000, 2),
                        "subject": claims.subject if claims else None,
                    },
                )

        return handler

    return decorate


class BalanceServicer(pb_grpc.BalanceServiceServicer):
    """The gRPC face of one `BalanceBook`."""

    def __init__(self, book: BalanceBook, jwt_secret: str) -> None:
        self.book = book
        self.jwt_secret = jwt_secret

    @rpc(acts_on_account)
    async def EnsureAccount(
        self, request: pb.EnsureAccountRequest, claims: Claims
    ) -> pb.AccountResponse:
        account, created = await self.book.accounts.ensure(request.account_id)
        return pb.AccountResponse(**figures(account), created=created)

    @rpc(acts_on_account)
    async def GetBalance(self, request: pb.GetBalanceRequest, claims: Claims) -> pb.AccountResponse:
        account = await self.book.accounts.get_balance(request.account_id)
        return pb.AccountResponse(**figures(account), stale=account.stale)

    @rpc(acts_on_account)
    async def Credit(self, request: pb.CreditRequest, claims: Claims) -> pb.MutationResponse:
        return mutation_response(await self.book.accounts.credit(steps.credit(request)))

    @rpc(acts_on_account)
    async def Debit(self, request: pb.DebitRequest, claims: Claims) -> pb.MutationResponse:
        return mutation_response(await self.book.accounts.debit(steps.debit(request)))

    @rpc(acts_on_account)
    async def Reserve(self, request: pb.ReserveRequest, claims: Claims) -> pb.ReservationResponse:
        return reservation_response(await self.book.reservations.reserve(steps.reserve(request)))

    @rpc(resolves_reservation)
    async def CommitReservation(
        self, request: pb.CommitReservationRequest, claims: Claims
    ) -> pb.ReservationResponse:
        return reservation_response(await self.book.reservations.commit(steps.commit(request)))

    @rpc(resolves_reservation)
    async def ReleaseReservation(
        self, request: pb.ReleaseReservationRequest, claims: Claims
    ) -> pb.ReservationResponse:
        return reservation_response(await self.book.reservations.release(steps.release(request)))

    @rpc(acts_on_account)
    async def GetActiveReservations(
        self, request: pb.GetActiveReservationsRequest, claims: Claims
    ) -> pb.GetActiveReservationsResponse:
        found = await self.book.reservations.active(request.account_id)
        return pb.GetActiveReservationsResponse(
            reservations=[reservation_message(r) for r in found]
        )

    @rpc(acts_on_account)
    async def GetTransactions(
        self, request: pb.GetTransactionsRequest, claims: Claims
    ) -> pb.GetTransactionsResponse:
        found = await self.book.accounts.transactions(request.account_id, request.limit or 50)
        return pb.GetTransactionsResponse(transactions=[transaction_message(t) for t in found])

    @rpc(acts_on_account)
    async def GetLedgerEntries(
        self, request: pb.GetLedgerEntriesRequest, claims: Claims
    ) -> pb.GetLedgerEntriesResponse:
        found = await self.book.ledger.entries(
            request.account_id, request.from_seq or 1, request.limit or 100
        )
        return pb.GetLedgerEntriesResponse(entries=[ledger_message(e) for e in found])

    @rpc(acts_on_account)
    async def VerifyLedger(
        self, request: pb.VerifyLedgerRequest, claims: Claims
    ) -> pb.VerifyLedgerResponse:
        await self.book.accounts.get_balance(request.account_id)
        result = await self.book.ledger.verify(request.account_id)
        return pb.VerifyLedgerResponse(
            account_id=result.account_id,
            valid=result.valid,
            entries_checked=result.entries_checked,
            first_bad_seq=result.first_bad_seq,
            reason=result.reason,
            head_checksum=result.head_checksum,
        )

    @rpc(moves_pots)
    async def CreatePot(self, request: pb.CreatePotRequest, claims: Claims) -> pb.PotResponse:
        pot, created = await self.book.pots.create(steps.create_pot(request))
        return pb.PotResponse(pot=pot_message(pot), created=created)

    @rpc(moves_pots)
    async def RecordContribution(
        self, request: pb.RecordContributionRequest, claims: Claims
    ) -> pb.ContributionResponse:
        result = await self.book.pots.contribute(steps.contribution(request))
        return pb.ContributionResponse(
            **figures(result.account), pot=pot_message(result.pot), replayed=result.replayed
        )

    @rpc(moves_pots)
    async def SettlePot(self, request: pb.SettlePotRequest, claims: Claims) -> pb.SettlePotResponse:
        return resolution_message(await self.book.pots.settle(steps.settle_pot(request)))

    @rpc(moves_pots)
    async def CancelPot(self, request: pb.CancelPotRequest, claims: Claims) -> pb.SettlePotResponse:
        return resolution_message(await self.book.pots.cancel(steps.cancel_pot(request)))

    @rpc(per_operation)
    async def Batch(self, request: pb.BatchRequest, claims: Claims) -> pb.BatchResponse:
        prepared = await steps.batch_steps(self.book, claims, request)
        outcomes = await self.book.scripts.perform_in_order(prepared)
        return pb.BatchResponse(results=[batch_result(o) for o in outcomes])
