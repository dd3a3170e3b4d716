"""Order lifecycle rules: explicit states and the transitions allowed between them."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from domain.errors import DomainError, ErrorCode


class OrderStatus(StrEnum):
    """Where an order is in its life."""

    CREATED = "CREATED"
    CONFIRMED = "CONFIRMED"
    CANCELLED = "CANCELLED"


_ALLOWED: dict[OrderStatus, frozenset[OrderStatus]] = {
    OrderStatus.CREATED: frozenset({OrderStatus.CONFIRMED, OrderStatus.CANCELLED}),
    OrderStatus.CONFIRMED: frozenset(),
    OrderStatus.CANCELLED: frozenset(),
}


class InvalidOrderTransition(DomainError):
    """The order is in a state that does not allow the change."""

    code = ErrorCode.INVALID_STATE


def transition(current: OrderStatus, target: OrderStatus) -> bool:
    """Whether moving to `target` changes anything; raise if it is not allowed.

    Asking for the state the order is already in is a replay, so cancel and confirm are
    idempotent.
    """
    if current == target:
        return False
    if target not in _ALLOWED[current]:
        raise InvalidOrderTransition(
            f"an order that is {current} cannot become {target}",
            current_status=str(current),
            requested=str(target),
        )
    return True


def order_id_for(order_ledger_id: uuid.UUID) -> uuid.UUID:
    """The order id of a ledger entry: derived, so a retried create finds the same order."""
    return uuid.uuid5(uuid.NAMESPACE_URL, f"saga:order:{order_ledger_id}")


@dataclass(frozen=True)
class OrderLine:
    """One product of an order at the price it was sold for."""

    product_id: str
    quantity: int
    unit_price_cents: int

    @property
    def line_total_cents(self) -> int:
        """Quantity times unit price."""
        return self.quantity * self.unit_price_cents


@dataclass(frozen=True)
class Order:
    """An order record."""

    order_id: uuid.UUID
    order_ledger_id: uuid.UUID
    customer_id: str
    status: OrderStatus
    total_cents: int
    currency: str
    created_at: datetime
    updated_at: datetime
    items: list[OrderLine] = field(default_factory=list)
