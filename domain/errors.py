"""The platform's one table of error codes, and the base of every domain error.

The domain raises `DomainError` subclasses with a stable `code`; activities turn them into
`ApplicationError(type=code)` (non-retryable unless the code is in RETRYABLE), and the fronts
render them with the HTTP and gRPC status of each code (`apis/errors.py`, the table's other
columns, which the domain does not need to know).
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any


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
    TABLE_NOT_FOUND = "TABLE_NOT_FOUND"
    TABLE_FULL = "TABLE_FULL"
    SEAT_TAKEN = "SEAT_TAKEN"
    ALREADY_SEATED = "ALREADY_SEATED"
    NOT_SEATED = "NOT_SEATED"
    NOT_YOUR_TURN = "NOT_YOUR_TURN"
    ILLEGAL_ACTION = "ILLEGAL_ACTION"
    PAYLOAD_TOO_LARGE = "PAYLOAD_TOO_LARGE"
    UPSTREAM_FAILED = "UPSTREAM_FAILED"
    UPSTREAM_TIMEOUT = "UPSTREAM_TIMEOUT"
    UNAVAILABLE = "UNAVAILABLE"
    INTERNAL = "INTERNAL"


# Codes whose failure may pass if the same request is tried again later: outages and limits.
# Everything else is a business answer that a retry would only repeat.
RETRYABLE: frozenset[ErrorCode] = frozenset(
    {
        ErrorCode.PAYMENT_UNAVAILABLE,
        ErrorCode.RATE_LIMITED,
        ErrorCode.UPSTREAM_FAILED,
        ErrorCode.UPSTREAM_TIMEOUT,
        ErrorCode.UNAVAILABLE,
        ErrorCode.INTERNAL,
    }
)


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
    def retryable(self) -> bool:
        """Whether trying the same request again later may succeed."""
        return self.code in RETRYABLE


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
