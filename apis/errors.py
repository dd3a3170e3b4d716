"""How each error code surfaces on the fronts: its HTTP status and its gRPC status.

The codes and which of them are retryable are the domain's (`domain/errors.py`); the status
columns belong to the transports, so they live here. A test checks every code has a row.
"""

from __future__ import annotations

from dataclasses import dataclass

import grpc

from domain.errors import ErrorCode


@dataclass(frozen=True)
class Transport:
    """The HTTP and gRPC status of one code."""

    http: int
    grpc: grpc.StatusCode


STATUS: dict[ErrorCode, Transport] = {
    ErrorCode.VALIDATION_FAILED: Transport(422, grpc.StatusCode.INVALID_ARGUMENT),
    ErrorCode.UNAUTHENTICATED: Transport(401, grpc.StatusCode.UNAUTHENTICATED),
    ErrorCode.FORBIDDEN: Transport(403, grpc.StatusCode.PERMISSION_DENIED),
    ErrorCode.NOT_FOUND: Transport(404, grpc.StatusCode.NOT_FOUND),
    ErrorCode.ALREADY_EXISTS: Transport(409, grpc.StatusCode.ALREADY_EXISTS),
    ErrorCode.IDEMPOTENCY_KEY_REQUIRED: Transport(400, grpc.StatusCode.INVALID_ARGUMENT),
    ErrorCode.IDEMPOTENCY_KEY_REUSED: Transport(409, grpc.StatusCode.ALREADY_EXISTS),
    ErrorCode.VERSION_CONFLICT: Transport(409, grpc.StatusCode.ABORTED),
    ErrorCode.INSUFFICIENT_FUNDS: Transport(422, grpc.StatusCode.FAILED_PRECONDITION),
    ErrorCode.OUT_OF_STOCK: Transport(409, grpc.StatusCode.FAILED_PRECONDITION),
    ErrorCode.UNKNOWN_PRODUCT: Transport(422, grpc.StatusCode.INVALID_ARGUMENT),
    ErrorCode.PAYMENT_DECLINED: Transport(402, grpc.StatusCode.FAILED_PRECONDITION),
    ErrorCode.CAPTURE_DECLINED: Transport(402, grpc.StatusCode.FAILED_PRECONDITION),
    ErrorCode.PAYMENT_UNAVAILABLE: Transport(503, grpc.StatusCode.UNAVAILABLE),
    ErrorCode.INVALID_STATE: Transport(409, grpc.StatusCode.FAILED_PRECONDITION),
    ErrorCode.RESERVATION_EXPIRED: Transport(409, grpc.StatusCode.FAILED_PRECONDITION),
    ErrorCode.RESERVATION_ALREADY_RESOLVED: Transport(409, grpc.StatusCode.FAILED_PRECONDITION),
    ErrorCode.POT_ALREADY_SETTLED: Transport(409, grpc.StatusCode.FAILED_PRECONDITION),
    ErrorCode.RATE_LIMITED: Transport(429, grpc.StatusCode.RESOURCE_EXHAUSTED),
    ErrorCode.MUTED: Transport(403, grpc.StatusCode.PERMISSION_DENIED),
    ErrorCode.TABLE_NOT_FOUND: Transport(404, grpc.StatusCode.NOT_FOUND),
    ErrorCode.TABLE_FULL: Transport(409, grpc.StatusCode.FAILED_PRECONDITION),
    ErrorCode.SEAT_TAKEN: Transport(409, grpc.StatusCode.FAILED_PRECONDITION),
    ErrorCode.ALREADY_SEATED: Transport(409, grpc.StatusCode.ALREADY_EXISTS),
    ErrorCode.NOT_SEATED: Transport(409, grpc.StatusCode.FAILED_PRECONDITION),
    ErrorCode.NOT_YOUR_TURN: Transport(409, grpc.StatusCode.FAILED_PRECONDITION),
    ErrorCode.ILLEGAL_ACTION: Transport(409, grpc.StatusCode.FAILED_PRECONDITION),
    ErrorCode.PAYLOAD_TOO_LARGE: Transport(413, grpc.StatusCode.INVALID_ARGUMENT),
    ErrorCode.UPSTREAM_FAILED: Transport(502, grpc.StatusCode.UNAVAILABLE),
    ErrorCode.UPSTREAM_TIMEOUT: Transport(504, grpc.StatusCode.DEADLINE_EXCEEDED),
    ErrorCode.UNAVAILABLE: Transport(503, grpc.StatusCode.UNAVAILABLE),
    ErrorCode.INTERNAL: Transport(500, grpc.StatusCode.INTERNAL),
}


def http_status(code: ErrorCode) -> int:
    """The HTTP status of `code`."""
    return STATUS[code].http


def grpc_status(code: ErrorCode) -> grpc.StatusCode:
    """The gRPC status of `code`."""
    return STATUS[code].grpc
