"""The one client of balance.v1.BalanceService: typed calls, retries that reuse the key.

The gateway, the CLI, the proof run and the game service all call the balance service through
it: one error-code parser (`BalanceCallError.from_rpc`, which also gives the platform's own
`DomainError`), one refreshing service token (`infra.tokens.ServiceToken`), one channel.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import grpc
from grpc import aio
from grpc_health.v1 import health_pb2, health_pb2_grpc

from domain.errors import DomainError, ErrorCode
from infra.tokens import ServiceToken
from protos.balance.v1 import balance_pb2 as pb
from protos.balance.v1 import balance_pb2_grpc as pb_grpc

T = TypeVar("T")
_RETRY_DELAYS = (0.1, 0.3)


class BalanceCallError(Exception):
    """The balance service said no (or could not be reached); `code` is its `error-code`."""

    def __init__(self, status: grpc.StatusCode, code: str, detail: str) -> None:
        super().__init__(f"{code}: {detail}")
        self.status = status
        self.code = code
        self.detail = detail

    @property
    def unreachable(self) -> bool:
        """True when the service or its Redis could not be reached: the outcome is unknown."""
        return self.status in (grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.DEADLINE_EXCEEDED)

    def domain_error(self) -> DomainError:
        """The same error as the platform's own: the code the balance service meant."""
        if self.code in ErrorCode.__members__:
            return DomainError(self.detail or self.code, code=ErrorCode(self.code))
        if self.status == grpc.StatusCode.DEADLINE_EXCEEDED:
            return DomainError("the balance service timed out", code=ErrorCode.UPSTREAM_TIMEOUT)
        return DomainError(
            f"the balance service failed: {self.status.name}", code=ErrorCode.UPSTREAM_FAILED
        )

    @classmethod
    def from_rpc(cls, error: aio.AioRpcError) -> BalanceCallError:
        """From a failed call, reading the trailing metadata `error-code`."""
        code = ""
        metadata: Any = error.trailing_metadata() or ()
        for key, value in metadata:
            if key == "error-code":
                code = value.decode() if isinstance(value, bytes) else str(value)
        status = error.code()
        return cls(status, code or status.name, error.details() or "")


class BalanceClient:
    """One channel to the balance service, authenticated with a service token."""

    def __init__(
        self, address: str, token: str | ServiceToken, *, timeout_seconds: float = 2.0
    ) -> None:
        self.address = address
        self._token = token
        self._timeout = timeout_seconds
        self._channel = aio.insecure_channel(address)
        self.stub = pb_grpc.BalanceServiceStub(self._channel)

    def _metadata(self, traceparent: str | None = None) -> tuple[tuple[str, str], ...]:
        metadata = [("authorization", f"Bearer {self._token}")]
        if traceparent:
            metadata.append(("traceparent", traceparent))
        return tuple(metadata)

    async def healthy(self) -> bool:
        """Standard gRPC health check of the balance server."""
        health = health_pb2_grpc.HealthStub(self._channel)
        try:
            reply = await health.Check(health_pb2.HealthCheckRequest(service=""), timeout=2)
        except aio.AioRpcError:
            return False
        return bool(reply.status == health_pb2.HealthCheckResponse.SERVING)

    async def close(self) -> None:
        """Close the channel."""
        await self._channel.close(grace=None)

    async def __aenter__(self) -> BalanceClient:
        return self

    async def __aexit__(self, *_: object) -> None:
        await self.close()

    async def call(
        self,
        method: Callable[..., Awaitable[T]],
        request: Any,
        *,
        traceparent: str | None = None,
    ) -> T:
        """Call `method`; an unreachable service is retried twice with the same request (and
        so the same idempotency key), which can never apply a change twice."""
        for attempt in range(len(_RETRY_DELAYS) + 1):
            try:
                return await method(
                    request, metadata=self._metadata(traceparent), timeout=self._timeout
                )
            except aio.AioRpcError as exc:
                error = BalanceCallError.from_rpc(exc)
                if not error.unreachable or attempt == len(_RETRY_DELAYS):
                    raise error from None
                await asyncio.sleep(_RETRY_DELAYS[attempt])
        raise AssertionError("unreachable")  # the loop returns or raises

    async def reserve(self, request: pb.ReserveRequest) -> pb.ReservationResponse:
        """Reserve."""
        return await self.call(self.stub.Reserve, request)

    async def commit(self, request: pb.CommitReservationRequest) -> pb.ReservationResponse:
        """CommitReservation."""
        return await self.call(self.stub.CommitReservation, request)

    async def release(self, request: pb.ReleaseReservationRequest) -> pb.ReservationResponse:
        """ReleaseReservation."""
        return await self.call(self.stub.ReleaseReservation, request)

    async def credit(self, request: pb.CreditRequest) -> pb.MutationResponse:
        """Credit."""
        return await self.call(self.stub.Credit, request)

    async def debit(self, request: pb.DebitRequest) -> pb.MutationResponse:
        """Debit."""
        return await self.call(self.stub.Debit, request)

    async def get_balance(
        self, account_id: str, *, traceparent: str | None = None
    ) -> pb.AccountResponse:
        """GetBalance."""
        return await self.call(
            self.stub.GetBalance,
            pb.GetBalanceRequest(account_id=account_id),
            traceparent=traceparent,
        )
