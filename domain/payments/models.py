"""Mock PSP rules: the test tokens, authorization states, and what each call may do."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from domain.errors import DomainError, ErrorCode


class PaymentDeclined(DomainError):
    """The card was declined at authorization."""

    code = ErrorCode.PAYMENT_DECLINED


class CaptureDeclined(DomainError):
    """The PSP refused the capture for good."""

    code = ErrorCode.CAPTURE_DECLINED


class PspUnavailable(DomainError):
    """A transient PSP failure: the same call may succeed later."""

    code = ErrorCode.PAYMENT_UNAVAILABLE


class InvalidPaymentState(DomainError):
    """The authorization is in a state that does not allow the call."""

    code = ErrorCode.INVALID_STATE


class TestToken(StrEnum):
    """Payment methods with scripted behaviour; any other value behaves like a good card."""

    __test__ = False  # not a pytest test class despite the name

    VISA = "pm_card_visa"
    DECLINED = "pm_card_declined"
    CAPTURE_DECLINED = "pm_capture_declined"
    CAPTURE_FLAKY = "pm_capture_flaky"


# pm_capture_flaky fails this many captures of one authorization before one succeeds.
FLAKY_CAPTURE_FAILURES = 2


class AuthorizationStatus(StrEnum):
    """The life of one authorization."""

    AUTHORIZED = "AUTHORIZED"
    DECLINED = "DECLINED"
    CAPTURED = "CAPTURED"
    VOIDED = "VOIDED"
    REFUNDED = "REFUNDED"


class CaptureOutcome(StrEnum):
    """What the PSP does with one capture attempt."""

    CAPTURE = "captured"
    DECLINE = "declined"
    TRANSIENT_FAILURE = "transient_failure"


@dataclass(frozen=True)
class Authorization:
    """One authorization and where it is now."""

    authorization_id: str
    payment_method: str
    amount_cents: int
    currency: str
    status: AuthorizationStatus
    capture_attempts: int


def authorization_declined(payment_method: str) -> bool:
    """Whether authorization of this payment method is declined."""
    return payment_method == TestToken.DECLINED


def capture_outcome(payment_method: str, attempt: int) -> CaptureOutcome:
    """What the `attempt`-th capture (1-based) of an authorization does."""
    if payment_method == TestToken.CAPTURE_DECLINED:
        return CaptureOutcome.DECLINE
    if payment_method == TestToken.CAPTURE_FLAKY and attempt <= FLAKY_CAPTURE_FAILURES:
        return CaptureOutcome.TRANSIENT_FAILURE
    return CaptureOutcome.CAPTURE


def void_target(status: AuthorizationStatus) -> AuthorizationStatus | None:
    """The state a void moves to; None when it was already voided or refunded (a replay)."""
    if status == AuthorizationStatus.AUTHORIZED:
        return AuthorizationStatus.VOIDED
    if status == AuthorizationStatus.CAPTURED:
        # Voiding captured money is a refund; the saga compensates a confirm failure this way.
        return AuthorizationStatus.REFUNDED
    if status in (AuthorizationStatus.VOIDED, AuthorizationStatus.REFUNDED):
        return None
    raise InvalidPaymentState(
        f"a {status} authorization cannot be voided", current_status=str(status)
    )
