"""`balance.v1.BalanceService`: each method checks the caller, calls the domain, converts."""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from grpc import StatusCode, aio
from prometheus_client import Histogram

from apis.balance.rpc import steps
from apis.balance.rpc.auth import caller, may_act_on, service_only
from apis.balance.rpc.convert import (
    figures,
    ledger_message,
    pot_message,
    reservation_message,
    resolution_message,
    transaction_message,
)
from apis.errors import grpc_status
from domain.balance.book import BalanceBook
from domain.balance.pots import SidePot
from domain.balance.types import Mutation, ReservationResult
from domain.errors import DomainError, ErrorCode
from infra.tokens import Claims
from protos.balance.v1 import balance_pb2 as pb
from protos.balance.v1 import balance_pb2_grpc as pb_grpc

T = TypeVar("T")
Context = aio.ServicerContext[Any, Any]
log = logging.getLogger(__name__)

GRPC_LATENCY = Histogram(
    "saga_balance_grpc_request_seconds",
    "Time to answer a BalanceService call",
    ["method", "code"],
    buckets=(0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1.0),
)


def _reservation_response(result: ReservationResult) -> pb.ReservationResponse:
    return pb.ReservationResponse(
        **figures(result.account),
        reservation=reservation_message(result.reservation),
        replayed=result.replayed,
    )


class BalanceServicer(pb_grpc.BalanceServiceServicer):
    """The gRPC face of one `BalanceBook`."""

    def __init__(self, book: BalanceBook, jwt_secret: str) -> None:
        self.book = book
        self._secret = jwt_secret

    async def _run(
        self, method: str, context: Context, work: Callable[[Claims], Awaitable[T]]
    ) -> T:
        started = time.perf_counter()
        code = "OK"
        try:
            return await work(caller(context, self._secret))
        except DomainError as err:
            code = err.code.value
            await context.abort(
                grpc_status(err.code), err.detail, (("error-code", err.code.value),)
            )
        except Exception:
            code = ErrorCode.INTERNAL.value
            log.exception("BalanceService.%s failed", method)
            await context.abort(
                StatusCode.INTERNAL,
                "an unexpected error occurred; it was logged",
                (("error-code", code),),
            )
        finally:
            GRPC_LATENCY.labels(method, code).observe(time.perf_counter() - started)

    async def EnsureAccount(
        self, request: pb.EnsureAccountRequest, context: Context
    ) -> pb.AccountResponse:
        async def work(claims: Claims) -> pb.AccountResponse:
            may_act_on(claims, request.account_id)
            account, created = await self.book.accounts.ensure(request.account_id)
            return pb.AccountResponse(**figures(account), created=created)

        return await self._run("EnsureAccount", context, work)

    async def GetBalance(
        self, request: pb.GetBalanceRequest, context: Context
    ) -> pb.AccountResponse:
        async def work(claims: Claims) -> pb.AccountResponse:
            may_act_on(claims, request.account_id)
            account = await self.book.accounts.get_balance(request.account_id)
            return pb.AccountResponse(**figures(account), stale=account.stale)

        return await self._run("GetBalance", context, work)

    async def Credit(self, request: pb.CreditRequest, context: Context) -> pb.MutationResponse:
        async def work(claims: Claims) -> pb.MutationResponse:
            step = await steps.credit(self.book, claims, request)
            return _mutation_response(await self.book.scripts.perform(step))

        return await self._run("Credit", context, work)

    async def Debit(self, request: pb.DebitRequest, context: Context) -> pb.MutationResponse:
        async def work(claims: Claims) -> pb.MutationResponse:
            step = await steps.debit(self.book, claims, request)
            return _mutation_response(await self.book.scripts.perform(step))

        return await self._run("Debit", context, work)

    async def Reserve(self, request: pb.ReserveRequest, context: Context) -> pb.ReservationResponse:
        async def work(claims: Claims) -> pb.ReservationResponse:
            step = await steps.reserve(self.book, claims, request)
            return _reservation_response(await self.book.scripts.perform(step))

        return await self._run("Reserve", context, work)

    async def CommitReservation(
        self, request: pb.CommitReservationRequest, context: Context
    ) -> pb.ReservationResponse:
        async def work(claims: Claims) -> pb.ReservationResponse:
            step = await steps.commit(self.book, claims, request)
            return _reservation_response(await self.book.scripts.perform(step))

        return await self._run("CommitReservation", context, work)

    async def ReleaseReservation(
        self, request: pb.ReleaseReservationRequest, context: Context
    ) -> pb.ReservationResponse:
        async def work(claims: Claims) -> pb.ReservationResponse:
            step = await steps.release(self.book, claims, request)
            return _reservation_response(await self.book.scripts.perform(step))

        return await self._run("ReleaseReservation", context, work)

    async def GetActiveReservations(
        self, request: pb.GetActiveReservationsRequest, context: Context
    ) -> pb.GetActiveReservationsResponse:
        async def work(claims: Claims) -> pb.GetActiveReservationsResponse:
            may_act_on(claims, request.account_id)
            found = await self.book.reservations.active(request.account_id)
            return pb.GetActiveReservationsResponse(
                reservations=[reservation_message(r) for r in found]
            )

        return await self._run("GetActiveReservations", context, work)

    async def GetTransactions(
        self, request: pb.GetTransactionsRequest, context: Context
    ) -> pb.GetTransactionsResponse:
        async def work(claims: Claims) -> pb.GetTransactionsResponse:
            may_act_on(claims, request.account_id)
            found = await self.book.accounts.transactions(request.account_id, request.limit or 50)
            return pb.GetTransactionsResponse(transactions=[transaction_message(t) for t in found])

        return await self._run("GetTransactions", context, work)

    async def GetLedgerEntries(
        self, request: pb.GetLedgerEntriesRequest, context: Context
    ) -> pb.GetLedgerEntriesResponse:
        async def work(claims: Claims) -> pb.GetLedgerEntriesResponse:
            may_act_on(claims, request.account_id)
            found = await self.book.ledger.entries(
                request.account_id, request.from_seq or 1, request.limit or 100
            )
            return pb.GetLedgerEntriesResponse(entries=[ledger_message(e) for e in found])

        return await self._run("GetLedgerEntries", context, work)

    async def VerifyLedger(
        self, request: pb.VerifyLedgerRequest, context: Context
    ) -> pb.VerifyLedgerResponse:
        async def work(claims: Claims) -> pb.VerifyLedgerResponse:
            may_act_on(claims, request.account_id)
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

        return await self._run("VerifyLedger", context, work)

    async def CreatePot(self, request: pb.CreatePotRequest, context: Context) -> pb.PotResponse:
        async def work(claims: Claims) -> pb.PotResponse:
            service_only(claims)
            pot, created = await self.book.pots.create(request.table_id, request.hand_id)
            return pb.PotResponse(pot=pot_message(pot), created=created)

        return await self._run("CreatePot", context, work)

    async def RecordContribution(
        self, request: pb.RecordContributionRequest, context: Context
    ) -> pb.ContributionResponse:
        async def work(claims: Claims) -> pb.ContributionResponse:
            service_only(claims)
            result = await self.book.pots.contribute(
                request.table_id,
                request.hand_id,
                request.account_id,
                request.amount,
                idempotency_key=request.idempotency_key,
                reservation_id=request.reservation_id,
            )
            return pb.ContributionResponse(
                **figures(result.account), pot=pot_message(result.pot), replayed=result.replayed
            )

        return await self._run("RecordContribution", context, work)

    async def SettlePot(
        self, request: pb.SettlePotRequest, context: Context
    ) -> pb.SettlePotResponse:
        async def work(claims: Claims) -> pb.SettlePotResponse:
            service_only(claims)
            result = await self.book.pots.settle(
                request.table_id,
                request.hand_id,
                [SidePot(p.amount, list(p.winner_ids)) for p in request.side_pots],
                idempotency_key=request.idempotency_key,
                rake=request.rake,
                house_account_id=request.house_account_id,
            )
            return resolution_message(result)

        return await self._run("SettlePot", context, work)

    async def Batch(self, request: pb.BatchRequest, context: Context) -> pb.BatchResponse:
        async def work(claims: Claims) -> pb.BatchResponse:
            prepared = await steps.batch_steps(self.book, claims, request)
            outcomes = await self.book.scripts.perform_in_order(prepared)
            return pb.BatchResponse(results=[_batch_result(o) for o in outcomes])

        return await self._run("Batch", context, work)

    async def CancelPot(
        self, request: pb.CancelPotRequest, context: Context
    ) -> pb.SettlePotResponse:
        async def work(claims: Claims) -> pb.SettlePotResponse:
            service_only(claims)
            result = await self.book.pots.cancel(
                request.table_id, request.hand_id, idempotency_key=request.idempotency_key
            )
            return resolution_message(result)

        return await self._run("CancelPot", context, work)


def _batch_result(outcome: Mutation | ReservationResult | DomainError) -> pb.BatchResult:
    if isinstance(outcome, DomainError):
        return pb.BatchResult(error=pb.BatchError(code=outcome.code.value, message=outcome.detail))
    if isinstance(outcome, Mutation):
        return pb.BatchResult(mutation=_mutation_response(outcome))
    return pb.BatchResult(reservation=_reservation_response(outcome))


def _mutation_response(result: Mutation) -> pb.MutationResponse:
    """The answer to a credit or debit: resulting balances and the transaction."""
    return pb.MutationResponse(
        **figures(result.account),
        transaction=transaction_message(result.transaction),
        replayed=result.replayed,
    )
