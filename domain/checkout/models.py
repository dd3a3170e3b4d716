"""Checkout rules: ledger statuses, pricing from the catalog, request fingerprints, events."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from domain.inventory.models import StockLine, UnknownProduct, merge_lines
from domain.orders.models import OrderLine


class LedgerStatus(StrEnum):
    """The status path of DESIGN.md section 5, plus the edge's own decline."""

    AUTHORIZED = "AUTHORIZED"
    PAYMENT_DECLINED = "PAYMENT_DECLINED"
    ORDER_CREATED = "ORDER_CREATED"
    INVENTORY_RESERVED = "INVENTORY_RESERVED"
    PAYMENT_CAPTURED = "PAYMENT_CAPTURED"
    CONFIRMED = "CONFIRMED"
    COMPENSATING = "COMPENSATING"
    FAILED = "FAILED"

    @property
    def is_final(self) -> bool:
        """Whether nothing will change this ledger entry any more."""
        return self in (LedgerStatus.CONFIRMED, LedgerStatus.FAILED, LedgerStatus.PAYMENT_DECLINED)


@dataclass(frozen=True)
class OrderRequest:
    """What a customer asked for at the edge, before pricing."""

    customer_id: str
    lines: list[StockLine]
    payment_method: str
    currency: str

    def fingerprint(self) -> str:
        """SHA-256 of the request as sent, to tell a replay from a reused key."""
        canonical = json.dumps(
            {
                "customer_id": self.customer_id,
                "items": [[line.product_id, line.quantity] for line in self.lines],
                "payment_method": self.payment_method,
                "currency": self.currency,
            },
            separators=(",", ":"),
        )
        return hashlib.sha256(canonical.encode()).hexdigest()


def price(lines: list[StockLine], catalog: dict[str, int]) -> list[OrderLine]:
    """Order lines at catalog prices (product id to cents), one per product."""
    priced: list[OrderLine] = []
    for line in merge_lines(lines):
        if line.product_id not in catalog:
            raise UnknownProduct(
                f"product {line.product_id} does not exist", product_id=line.product_id
            )
        priced.append(OrderLine(line.product_id, line.quantity, catalog[line.product_id]))
    return priced


def workflow_id_for(order_ledger_id: object) -> str:
    """The saga's workflow id: one per ledger entry, so a repeated start is harmless."""
    return f"order-{order_ledger_id}"


@dataclass(frozen=True)
class StatusChange:
    """A ledger status change, as the customer sees it on `user:{customer_id}`."""

    order_ledger_id: str
    customer_id: str
    status: str
    failure_reason: str | None
    at: datetime

    @property
    def channel(self) -> str:
        """The gateway channel of the customer."""
        return f"user:{self.customer_id}"

    def payload(self) -> dict[str, Any]:
        """The JSON object published for the gateway."""
        return {
            "kind": "order.status",
            "order_ledger_id": self.order_ledger_id,
            "status": self.status,
            "failure_reason": self.failure_reason,
            "at": self.at.isoformat(),
        }
