"""The platform's one table of error codes, and the base of every domain error.

The domain raises `DomainError` subclasses with a stable `code`; activities turn them into
non-retryable `ApplicationError(type=code)`, HTTP fronts into problem details with the status
below, and gRPC fronts into the status below with the code in trailing metadata `error-code`.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any

import grpc


class ErrorCode(StrEnum):
    """Stable codes that clients and acceptance checks rely on."""

    VALIDATION_FAILED = "VALIDATION_FAILED"
    UNAUTHENTICATED = "UNAUTHENTICATED"
    FORBIDDEN = "FORBIDDEN"
    NOT_FOUND = "NOT_FOUND"
    ALREADY_EXISTS = "ALREADY_EXISTS"
    IDEMPOTENCY_KEY_REQUIRED = "IDEMPOTENCY_KEY_REQUIRED"
    IDEMPOTENCY_KEY_REUSED = "IDEMPOTENCY_KEY_REUSED"
    VERSION_CONFLICT = "VERSION_CONFLICT"
    INSUFFICIENT_FUNDS = "INSUFFICIENT_FUNDS"
    OUT_OF_STOCK = "OUT_OF_STOCK"
    UNKNOWN_PRODUCT = "UNKNOWN_PRODUCT"
    PAYMENT_DECLINED = "PAYMENT_DECLINED"
    CAPTURE_DECLINED = "CAPTURE_DECLINED"
    PAYMENT_UNAVAILABLE = "PAYMENT_UNAVAILABLE"
    INVALID_STATE = "INVALID_STATE"
    RESERVATION_EXPIRED = "RESERVATION_EXPIRED"
    RESERVATION_ALREADY_RESOLVED = "RESERVATION_ALREADY_RESOLVED"
    POT_ALREADY_SETTLED = "POT_ALREADY_SETTLED"
    RATE_LIMITED = "RATE_LIMITED"
    MUTED = "MUTED"
    PAYLOAD_TOO_LARGE = "PAYLOAD_TOO_LARGE"
    UPSTREAM_FAILED = "UPSTREAM_FAILED"
    UPSTREAM_TIMEOUT = "UPSTREAM_TIMEOUT"
    UNAVAILABLE = "UNAVAILABLE"
    INTERNAL = "INTERNAL"


@dataclass(frozen=True)
class CodeMapping:
    """How one code surfaces on each front."""

    http_status: int
    grpc_status: grpc.StatusCode
    retryable: bool = False


CODE_TABLE: dict[ErrorCode, CodeMapping] = {
    ErrorCode.VALIDATION_FAILED: CodeMapping(422, grpc.StatusCode.INVALID_ARGUMENT),
    ErrorCode.UNAUTHENTICATED: CodeMapping(401, grpc.StatusCode.UNAUTHENTICATED),
    ErrorCode.FORBIDDEN: CodeMapping(403, grpc.StatusCode.PERMISSION_DENIED),
    ErrorCode.NOT_FOUND: CodeMapping(404, grpc.StatusCode.NOT_FOUND),
    ErrorCode.ALREADY_EXISTS: CodeMapping(409, grpc.StatusCode.ALREADY_EXISTS),
    ErrorCode.IDEMPOTENCY_KEY_REQUIRED: CodeMapping(400, grpc.StatusCode.INVALID_ARGUMENT),
    ErrorCode.IDEMPOTENCY_KEY_REUSED: CodeMapping(409, grpc.StatusCode.ALREADY_EXISTS),
    ErrorCode.VERSION_CONFLICT: CodeMapping(409, grpc.StatusCode.ABORTED),
    ErrorCode.INSUFFICIENT_FUNDS: CodeMapping(422, grpc.StatusCode.FAILED_PRECONDITION),
    ErrorCode.OUT_OF_STOCK: CodeMapping(409, grpc.StatusCode.FAILED_PRECONDITION),
    ErrorCode.UNKNOWN_PRODUCT: CodeMapping(422, grpc.StatusCode.INVALID_ARGUMENT),
    ErrorCode.PAYMENT_DECLINED: CodeMapping(402, grpc.StatusCode.FAILED_PRECONDITION),
    ErrorCode.CAPTURE_DECLINED: CodeMapping(402, grpc.StatusCode.FAILED_PRECONDITION),
    ErrorCode.PAYMENT_UNAVAILABLE: CodeMapping(503, grpc.StatusCode.UNAVAILABLE, True),
    ErrorCode.INVALID_STATE: CodeMapping(409, grpc.StatusCode.FAILED_PRECONDITION),
    ErrorCode.RESERVATION_EXPIRED: CodeMapping(409, grpc.StatusCode.FAILED_PRECONDITION),
    ErrorCode.RESERVATION_ALREADY_RESOLVED: CodeMapping(409, grpc.StatusCode.FAILED_PRECONDITION),
    ErrorCode.POT_ALREADY_SETTLED: CodeMapping(409, grpc.StatusCode.FAILED_PRECONDITION),
    ErrorCode.RATE_LIMITED: CodeMapping(429, grpc.StatusCode.RESOURCE_EXHAUSTED, True),
    ErrorCode.MUTED: CodeMapping(403, grpc.StatusCode.PERMISSION_DENIED),
    ErrorCode.PAYLOAD_TOO_LARGE: CodeMapping(413, grpc.StatusCode.INVALID_ARGUMENT),
    ErrorCode.UPSTREAM_FAILED: CodeMapping(502, grpc.StatusCode.UNAVAILABLE, True),
    ErrorCode.UPSTREAM_TIMEOUT: CodeMapping(504, grpc.StatusCode.DEADLINE_EXCEEDED, True),
    ErrorCode.UNAVAILABLE: CodeMapping(503, grpc.StatusCode.UNAVAILABLE, True),
    ErrorCode.INTERNAL: CodeMapping(500, grpc.StatusCode.INTERNAL, True),
}


class DomainError(Exception):
    """A rule of the domain said no. `code` is stable; `detail` is for people."""

    code: ErrorCode = ErrorCode.INTERNAL

    def __init__(self, detail: str, *, code: ErrorCode | None = None, **fields: Any) -> None:
        super().__init__(detail)
        self.detail = detail
        if code is not None:
            self.code = code
        self.fields = fields

    @property
    def mapping(self) -> CodeMapping:
        """How this error surfaces on HTTP and gRPC."""
        return CODE_TABLE[self.code]


class ValidationFailed(DomainError):
    """Input that breaks a rule before anything changes."""

    code = ErrorCode.VALIDATION_FAILED


class Unauthenticated(DomainError):
    """No valid credentials: a token is missing, malformed, forged or expired."""

    code = ErrorCode.UNAUTHENTICATED


class Forbidden(DomainError):
    """Valid credentials that do not allow this: another user's data, or a service-only call."""

    code = ErrorCode.FORBIDDEN


class NotFound(DomainError):
    """The thing asked for does not exist."""

    code = ErrorCode.NOT_FOUND


class Unavailable(DomainError):
    """A dependency is down; the caller may retry later."""

    code = ErrorCode.UNAVAILABLE

    def __init__(self, detail: str, *, retry_after_seconds: int = 1, **fields: Any) -> None:
        super().__init__(detail, retry_after_seconds=retry_after_seconds, **fields)
        self.retry_after_seconds = retry_after_seconds
