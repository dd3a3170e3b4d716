"""Inventory rules in plain Python: products, stock lines and what a reservation may do."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum

from domain.errors import DomainError, ErrorCode, ValidationFailed


class OutOfStock(DomainError):
    """Fewer units are available than an order asks for."""

    code = ErrorCode.OUT_OF_STOCK


class UnknownProduct(DomainError):
    """A product id that is not in the catalog."""

    code = ErrorCode.UNKNOWN_PRODUCT


class ReservationStatus(StrEnum):
    """A reservation holds stock until it is released by compensation."""

    RESERVED = "RESERVED"
    RELEASED = "RELEASED"


@dataclass(frozen=True)
class Product:
    """A catalog entry with its stock."""

    product_id: str
    name: str
    price_cents: int
    stock_on_hand: int
    stock_reserved: int

    @property
    def available(self) -> int:
        """Units that can still be reserved."""
        return self.stock_on_hand - self.stock_reserved


@dataclass(frozen=True)
class StockLine:
    """A quantity of one product."""

    product_id: str
    quantity: int


def merge_lines(lines: Iterable[StockLine]) -> list[StockLine]:
    """One line per product, sorted by id so row locks are always taken in the same order."""
    totals: dict[str, int] = {}
    for line in lines:
        if line.quantity < 1:
            raise ValidationFailed(
                f"quantity of {line.product_id} must be at least 1", product_id=line.product_id
            )
        totals[line.product_id] = totals.get(line.product_id, 0) + line.quantity
    if not totals:
        raise ValidationFailed("at least one item is required")
    return [StockLine(pid, qty) for pid, qty in sorted(totals.items())]


def check_reservable(lines: list[StockLine], available: dict[str, int]) -> None:
    """Raise unless every line can be reserved from `available` (product id to units)."""
    for line in lines:
        if line.product_id not in available:
            raise UnknownProduct(
                f"product {line.product_id} does not exist", product_id=line.product_id
            )
        if available[line.product_id] < line.quantity:
            raise OutOfStock(
                f"only {available[line.product_id]} of {line.product_id} available, "
                f"{line.quantity} requested",
                product_id=line.product_id,
                available=available[line.product_id],
                requested=line.quantity,
            )
