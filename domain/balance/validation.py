"""Checks on ids, amounts and idempotency keys before anything reaches Redis."""

from __future__ import annotations

import re

from domain.errors import ErrorCode, ValidationFailed

# Ids become part of Redis keys: no `*`, `{`, `}`, `:` or spaces, so no key can be forged.
_ID = re.compile(r"[A-Za-z0-9_-]{1,64}")
# The poker client's keys look like `buy-in:table-1:user-7:1712345678901`.
_IDEMPOTENCY_KEY = re.compile(r"[A-Za-z0-9_.:-]{1,200}")
MAX_AMOUNT = 1_000_000_000_000
MAX_TTL_SECONDS = 86_400
# No ledger grows this long; past it Redis list indexes (int64) would overflow.
MAX_LEDGER_SEQ = 2**53


def is_id(value: object) -> bool:
    """Whether `value` is a safe id (what `require_id` accepts)."""
    return isinstance(value, str) and _ID.fullmatch(value) is not None


def require_id(value: str, what: str = "account_id") -> str:
    """`value` if it is a safe id, else VALIDATION_FAILED."""
    if not isinstance(value, str) or not _ID.fullmatch(value):
        raise ValidationFailed(f"{what} must be 1-64 characters of A-Z, a-z, 0-9, '_' or '-'")
    return value


def require_amount(value: int, what: str = "amount", *, allow_zero: bool = False) -> int:
    """`value` if it is a positive int (or zero when allowed) within MAX_AMOUNT."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValidationFailed(f"{what} must be an integer number of chips")
    low = 0 if allow_zero else 1
    if not low <= value <= MAX_AMOUNT:
        raise ValidationFailed(f"{what} must be between {low} and {MAX_AMOUNT}")
    return value


def require_idempotency_key(value: str | None) -> str:
    """`value` if it is a usable idempotency key; missing is IDEMPOTENCY_KEY_REQUIRED."""
    if not value:
        raise ValidationFailed(
            "an idempotency key is required", code=ErrorCode.IDEMPOTENCY_KEY_REQUIRED
        )
    if not _IDEMPOTENCY_KEY.fullmatch(value):
        raise ValidationFailed(
            "idempotency key must be 1-200 characters of A-Z, a-z, 0-9, '_', '.', ':' or '-'"
        )
    return value


def require_ttl(value: int) -> int:
    """A reservation lifetime in seconds, 1 s to 24 h."""
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MAX_TTL_SECONDS:
        raise ValidationFailed(f"ttl_seconds must be between 1 and {MAX_TTL_SECONDS}")
    return value


def require_version(value: int | None) -> int | None:
    """An expected account version: None or a non-negative int."""
    if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value < 0):
        raise ValidationFailed("expected_version must be a non-negative integer")
    return value


def version_arg(expected_version: int | None) -> str:
    """The expected version as a script argument ('' = any version)."""
    version = require_version(expected_version)
    return "" if version is None else str(version)


def require_reference(reference: str) -> str:
    """A free reference (table or order id): stored in JSON, so short and free of separators."""
    if reference and (len(reference) > 128 or any(c in reference for c in "|\n{}*")):
        raise ValidationFailed(
            "reference must be at most 128 characters without | { } * or newlines"
        )
    return reference
