"""gRPC clients of the backends: one lazily opened channel per service, service token attached."""

from __future__ import annotations

import time
from typing import Any

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc

from domain.errors import DomainError, ErrorCode
from infra.tokens import TokenKind, issue_token
from protos.balance.v1 import balance_pb2, balance_pb2_grpc

_TOKEN_TTL_SECONDS = 3600
_CALL_TIMEOUT_SECONDS = 5.0


def _domain_error(exc: grpc.aio.AioRpcError) -> DomainError:
    """The same code the balance service meant (trailing metadata `error-code`)."""
    metadata: Any = exc.trailing_metadata() or ()
    for key, value in metadata:
        if key == "error-code" and isinstance(value, str) and value in ErrorCode.__members__:
            return DomainError(exc.details() or value, code=ErrorCode(value))
    if exc.code() == grpc.StatusCode.DEADLINE_EXCEEDED:
        return DomainError("the balance service timed out", code=ErrorCode.UPSTREAM_TIMEOUT)
    return DomainError(
        f"the balance service failed: {exc.code().name}", code=ErrorCode.UPSTREAM_FAILED
    )


class BalanceGrpcClient:
    """The balance service's gRPC API, called with a gateway service token."""

    def __init__(self, address: str, jwt_secret: str) -> None:
        self.address = address
        self._secret = jwt_secret
        self._channel: grpc.aio.Channel | None = None
        self._stub: balance_pb2_grpc.BalanceServiceStub | None = None
        self._token = ""
        self._token_expires = 0.0

    def _ensure(self) -> balance_pb2_grpc.BalanceServiceStub:
        if self._stub is None:
            self._channel = grpc.aio.insecure_channel(self.address)
            self._stub = balance_pb2_grpc.BalanceServiceStub(self._channel)
        return self._stub

    def _metadata(self, traceparent: str | None) -> tuple[tuple[str, str], ...]:
        if time.time() > self._token_expires - 60:
            self._token = issue_token(
                self._secret, "gateway", kind=TokenKind.SERVICE, ttl_seconds=_TOKEN_TTL_SECONDS
            )
            self._token_expires = time.time() + _TOKEN_TTL_SECONDS
        metadata = [("authorization", f"Bearer {self._token}")]
        if traceparent:
            metadata.append(("traceparent", traceparent))
        return tuple(metadata)

    async def get_balance(self, account_id: str, traceparent: str | None = None) -> dict[str, Any]:
        """Balance, reserved and available chips of an account."""
        stub = self._ensure()
        try:
            reply = await stub.GetBalance(  # type: ignore[misc]
                balance_pb2.GetBalanceRequest(account_id=account_id),
                metadata=self._metadata(traceparent),
                timeout=_CALL_TIMEOUT_SECONDS,
            )
        except grpc.aio.AioRpcError as exc:
            raise _domain_error(exc) from None
        return {
            "account_id": reply.account_id,
            "balance": reply.balance,
            "reserved": reply.reserved,
            "available": reply.available,
            "stale": reply.stale,
        }

    async def healthy(self) -> bool:
        """Standard gRPC health check of the balance server."""
        self._ensure()
        assert self._channel is not None
        health = health_pb2_grpc.HealthStub(self._channel)
        try:
            reply = await health.Check(health_pb2.HealthCheckRequest(service=""), timeout=2)
        except grpc.aio.AioRpcError:
            return False
        return bool(reply.status == health_pb2.HealthCheckResponse.SERVING)

    async def close(self) -> None:
        """Close the channel."""
        if self._channel is not None:
            await self._channel.close(None)
            self._channel = None
            self._stub = None
