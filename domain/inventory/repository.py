"""Inventory storage: products, stock adjustments and reservations under row locks."""

from __future__ import annotations

import asyncpg

from domain.errors import DomainError, ErrorCode, NotFound, ValidationFailed
from domain.inventory.models import (
    Product,
    ReservationStatus,
    StockLine,
    check_reservable,
    merge_lines,
)
from domain.validation import MAX_STOCK
from infra.db.connection import Connection

_PRODUCT_COLUMNS = "product_id, name, price_cents, stock_on_hand, stock_reserved"


class ReservationAlreadyReleased(DomainError):
    """An order's reservation was released; a new one needs a new order."""

    code = ErrorCode.RESERVATION_ALREADY_RESOLVED


def _product(row: asyncpg.Record) -> Product:
    return Product(
        row["product_id"],
        row["name"],
        row["price_cents"],
        row["stock_on_hand"],
        row["stock_reserved"],
    )


class InventoryRepository:
    """Inventory tables through one connection; writes run inside the caller's transaction."""

    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    async def create_product(
        self, product_id: str, name: str, price_cents: int, initial_stock: int
    ) -> tuple[Product, bool]:
        """Create a product; the same product again is a replay, a different one a conflict."""
        row = await self._conn.fetchrow(
            f"INSERT INTO products ({_PRODUCT_COLUMNS}) VALUES ($1, $2, $3, $4, 0) "
            f"ON CONFLICT (product_id) DO NOTHING RETURNING {_PRODUCT_COLUMNS}",
            product_id,
            name,
            price_cents,
            initial_stock,
        )
        if row is not None:
            if initial_stock:
                await self._conn.execute(
                    "INSERT INTO inventory_adjustments (product_id, quantity_delta, reason) "
                    "VALUES ($1, $2, 'initial stock')",
                    product_id,
                    initial_stock,
                )
            return _product(row), True
        existing = await self.product(product_id)
        if (existing.name, existing.price_cents) != (name, price_cents):
            raise DomainError(
                f"product {product_id} already exists with other attributes",
                code=ErrorCode.ALREADY_EXISTS,
                product_id=product_id,
            )
        return existing, False

    async def product(self, product_id: str) -> Product:
        """One product, or NotFound."""
        row = await self._conn.fetchrow(
            f"SELECT {_PRODUCT_COLUMNS} FROM products WHERE product_id = $1", product_id
        )
        if row is None:
            raise NotFound(f"product {product_id} does not exist", product_id=product_id)
        return _product(row)

    async def products(self, product_ids: list[str] | None = None) -> list[Product]:
        """The catalog, or the listed products that exist, by id."""
        rows = await self._conn.fetch(
            f"SELECT {_PRODUCT_COLUMNS} FROM products "
            "WHERE $1::text[] IS NULL OR product_id = ANY($1) ORDER BY product_id",
            product_ids,
        )
        return [_product(row) for row in rows]

    async def add_stock(
        self, product_id: str, quantity: int, idempotency_key: str
    ) -> tuple[Product, bool]:
        """Add units once per idempotency key; returns the product and whether it changed now."""
        if quantity < 1:
            raise DomainError("quantity must be at least 1", code=ErrorCode.VALIDATION_FAILED)
        on_hand = await self._conn.fetchval(
            "SELECT stock_on_hand FROM products WHERE product_id = $1 FOR UPDATE", product_id
        )
        if on_hand is None:
            raise NotFound(f"product {product_id} does not exist", product_id=product_id)
        if on_hand + quantity > MAX_STOCK:
            raise ValidationFailed(f"stock of {product_id} would exceed {MAX_STOCK} units")
        inserted = await self._conn.fetchval(
            "INSERT INTO inventory_adjustments "
            "(product_id, quantity_delta, reason, idempotency_key) VALUES ($1, $2, 'restock', $3) "
            "ON CONFLICT (product_id, idempotency_key) DO NOTHING RETURNING quantity_delta",
            product_id,
            quantity,
            idempotency_key,
        )
        if inserted is None:
            previous = await self._conn.fetchval(
                "SELECT quantity_delta FROM inventory_adjustments "
                "WHERE product_id = $1 AND idempotency_key = $2",
                product_id,
                idempotency_key,
            )
            if previous != quantity:
                raise DomainError(
                    "this idempotency key was used with another quantity",
                    code=ErrorCode.IDEMPOTENCY_KEY_REUSED,
                )
            return await self.product(product_id), False
        row = await self._conn.fetchrow(
            "UPDATE products SET stock_on_hand = stock_on_hand + $2 WHERE product_id = $1 "
            f"RETURNING {_PRODUCT_COLUMNS}",
            product_id,
            quantity,
        )
        assert row is not None  # locked above
        return _product(row), True

    async def reserve(self, order_id: str, lines: list[StockLine]) -> list[StockLine]:
        """Reserve every line or none, idempotent per order; rows locked in product id order."""
        merged = merge_lines(lines)
        existing = await self._conn.fetch(
            "SELECT product_id, quantity, status FROM inventory_reservations "
            "WHERE order_id = $1 ORDER BY product_id",
            order_id,
        )
        if existing:
            if any(row["status"] == ReservationStatus.RELEASED for row in existing):
                raise ReservationAlreadyReleased(
                    f"the reservation of order {order_id} was released", order_id=order_id
                )
            return [StockLine(row["product_id"], row["quantity"]) for row in existing]
        ids = [line.product_id for line in merged]
        quantities = [line.quantity for line in merged]
        rows = await self._conn.fetch(
            "SELECT product_id, stock_on_hand - stock_reserved AS available FROM products "
            "WHERE product_id = ANY($1) ORDER BY product_id FOR UPDATE",
            ids,
        )
        check_reservable(merged, {row["product_id"]: row["available"] for row in rows})
        await self._conn.execute(
            "WITH wanted AS (SELECT * FROM unnest($2::text[], $3::int[]) AS w(product_id, qty)), "
            "held AS (INSERT INTO inventory_reservations (order_id, product_id, quantity, status) "
            "  SELECT $1, product_id, qty, 'RESERVED' FROM wanted) "
            "UPDATE products p SET stock_reserved = p.stock_reserved + w.qty "
            "FROM wanted w WHERE p.product_id = w.product_id",
            order_id,
            ids,
            quantities,
        )
        return merged

    async def release(self, order_id: str) -> list[StockLine]:
        """Give back what `order_id` holds; releasing twice (or nothing) changes nothing."""
        rows = await self._conn.fetch(
            "WITH freed AS (UPDATE inventory_reservations SET status = 'RELEASED', "
            "  released_at = now() WHERE order_id = $1 AND status = 'RESERVED' "
            "  RETURNING product_id, quantity), "
            "restocked AS (UPDATE products p SET stock_reserved = p.stock_reserved - f.quantity "
            "  FROM freed f WHERE p.product_id = f.product_id) "
            "SELECT product_id, quantity FROM freed ORDER BY product_id",
            order_id,
        )
        return [StockLine(row["product_id"], row["quantity"]) for row in rows]

    async def reservations(self, order_id: str) -> list[tuple[StockLine, ReservationStatus]]:
        """What an order holds or held."""
        rows = await self._conn.fetch(
            "SELECT product_id, quantity, status FROM inventory_reservations "
            "WHERE order_id = $1 ORDER BY product_id",
            order_id,
        )
        return [
            (StockLine(row["product_id"], row["quantity"]), ReservationStatus(row["status"]))
            for row in rows
        ]
