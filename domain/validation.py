"""What the order-saga fronts accept: id shapes and integer bounds, checked before any query.

Ids reach SQL parameters, Redis channel names (`user:{customer_id}`), idempotency keys and log
lines, so they are drawn from a small alphabet: no quotes, spaces, `*`, `?`, `[`, `:`, `{`,
`/` or control characters, and at most 64 characters. Orders and order ledger entries are
addressed by UUIDs instead. (Balance ids have their own rule in domain/balance/validation.py.)
Integers are bounded so that no sum overflows a PostgreSQL INTEGER or BIGINT column: a huge
number is a 422, never a database error.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import StringConstraints

ID_PATTERN = r"^[A-Za-z0-9_.-]{1,64}$"
# A customer is a gateway user too; its channel keys also allow '@' (domain/gateway/channels).
CUSTOMER_ID_PATTERN = r"^[A-Za-z0-9_.@-]{1,64}$"
# Visible ASCII only, as a key travels in headers. The edge takes up to 200 characters
# (EDGE_KEY_MAX_LENGTH) because it prefixes them for the payments service.
IDEMPOTENCY_KEY_PATTERN = r"^[\x21-\x7e]{1,255}$"
EDGE_KEY_MAX_LENGTH = 200


def _text(pattern: str, max_length: int = 64) -> StringConstraints:
    return StringConstraints(min_length=1, max_length=max_length, pattern=pattern)


ProductId = Annotated[str, _text(ID_PATTERN)]
CustomerId = Annotated[str, _text(CUSTOMER_ID_PATTERN)]
PaymentMethod = Annotated[str, _text(ID_PATTERN)]
AuthorizationId = Annotated[str, _text(ID_PATTERN)]
ReservationOrderId = Annotated[str, _text(ID_PATTERN)]
IdempotencyKey = Annotated[str, _text(IDEMPOTENCY_KEY_PATTERN, 255)]
# Free text people read (a product's name): any characters but control characters, which
# PostgreSQL refuses (NUL) or which forge log lines (newlines).
DisplayName = Annotated[str, _text(r"^[^\x00-\x1f\x7f]+$", 200)]

# Stock columns are INTEGER (2**31 - 1); prices are BIGINT, and an order total of 100 lines of
# 10,000 units at the highest price stays far below 2**63.
MAX_STOCK = 1_000_000_000
MAX_PRICE_CENTS = 10_000_000_000
