"""Checkout rules: ledger statuses, pricing, fingerprints, the edge's answers, the saga's order."""

from __future__ import annotations

import hashlib
import json
import uuid
from dataclasses import asdict, dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any, ClassVar

from pydantic import TypeAdapter

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


@dataclass(frozen=True)
class Accepted:
    """The edge accepted the order: it is on the ledger and its saga will run."""

    order_ledger_id: uuid.UUID
    status: LedgerStatus
    total_cents: int
    workflow_id: str
    replayed: bool = False


@dataclass(frozen=True)
class Declined:
    """The payment was declined at authorization: the ledger records it, no saga runs."""

    status: ClassVar[LedgerStatus] = LedgerStatus.PAYMENT_DECLINED

    order_ledger_id: uuid.UUID
    total_cents: int
    replayed: bool = False


# What POST /orders decided, first time or replayed; the front renders it.
Placement = Accepted | Declined


@dataclass(frozen=True)
class AcceptedOrder:
    """The outbox payload of an accepted order: everything its saga needs."""

    order_ledger_id: str
    customer_id: str
    items: list[OrderLine]
    total_cents: int
    currency: str
    authorization_id: str

    def to_json(self) -> str:
        """The outbox row's JSON, one key per field."""
        return json.dumps(asdict(self))

    @staticmethod
    def from_json(payload: str | bytes) -> AcceptedOrder:
        """Parse (and type-check) an outbox row's JSON, whichever edge version wrote it."""
        return _ACCEPTED_ORDER.validate_json(payload)


_ACCEPTED_ORDER = TypeAdapter(AcceptedOrder)


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
