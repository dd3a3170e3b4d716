"""Order storage: create from a ledger entry once, read, and move through the lifecycle."""

from __future__ import annotations

import uuid

import asyncpg

from domain.errors import NotFound, ValidationFailed
from domain.orders.models import Order, OrderLine, OrderStatus, order_id_for, transition
from infra.db.connection import Connection

_ORDER_COLUMNS = (
    "order_id, order_ledger_id, customer_id, status, total_cents, currency, created_at, updated_at"
)


def _order(row: asyncpg.Record, items: list[OrderLine]) -> Order:
    return Order(
        row["order_id"],
        row["order_ledger_id"],
        row["customer_id"],
        OrderStatus(row["status"]),
        row["total_cents"],
        row["currency"],
        row["created_at"],
        row["updated_at"],
        items,
    )


class OrderRepository:
    """Orders tables through one connection; writes run inside the caller's transaction."""

    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    async def create_from_ledger(
        self,
        order_ledger_id: uuid.UUID,
        customer_id: str,
        items: list[OrderLine],
        currency: str,
    ) -> tuple[Order, bool]:
        """The order of a ledger entry, created now (True) or found from an earlier call."""
        if not items:
            raise ValidationFailed("an order needs at least one item")
        if any(item.quantity < 1 or item.unit_price_cents < 0 for item in items):
            raise ValidationFailed("quantities must be at least 1 and prices not negative")
        if len({item.product_id for item in items}) != len(items):
            raise ValidationFailed("each product may appear only once in an order")
        order_id = order_id_for(order_ledger_id)
        total = sum(item.line_total_cents for item in items)
        row = await self._conn.fetchrow(
            f"INSERT INTO orders ({_ORDER_COLUMNS}) "
            "VALUES ($1, $2, $3, 'CREATED', $4, $5, now(), now()) "
            f"ON CONFLICT (order_ledger_id) DO NOTHING RETURNING {_ORDER_COLUMNS}",
            order_id,
            order_ledger_id,
            customer_id,
            total,
            currency,
        )
        if row is None:
            return await self.by_ledger_id(order_ledger_id), False
        await self._conn.execute(
            "INSERT INTO order_items (order_id, product_id, quantity, unit_price_cents) "
            "SELECT $1, * FROM unnest($2::text[], $3::int[], $4::bigint[])",
            order_id,
            [item.product_id for item in items],
            [item.quantity for item in items],
            [item.unit_price_cents for item in items],
        )
        return _order(row, items), True

    async def get(self, order_id: uuid.UUID) -> Order:
        """An order with its items, or NotFound."""
        row = await self._conn.fetchrow(
            f"SELECT {_ORDER_COLUMNS} FROM orders WHERE order_id = $1", order_id
        )
        if row is None:
            raise NotFound(f"order {order_id} does not exist", order_id=str(order_id))
        return _order(row, await self._items(order_id))

    async def by_ledger_id(self, order_ledger_id: uuid.UUID) -> Order:
        """The order created from a ledger entry, or NotFound."""
        return await self.get(order_id_for(order_ledger_id))

    async def move_to(self, order_id: uuid.UUID, target: OrderStatus) -> tuple[Order, bool]:
        """Move an order to `target` under a row lock; the same target again is a replay."""
        row = await self._conn.fetchrow(
            "SELECT status FROM orders WHERE order_id = $1 FOR UPDATE", order_id
        )
        if row is None:
            raise NotFound(f"order {order_id} does not exist", order_id=str(order_id))
        changed = transition(OrderStatus(row["status"]), target)
        if changed:
            await self._conn.execute(
                "UPDATE orders SET status = $2, updated_at = now() WHERE order_id = $1",
                order_id,
                target.value,
            )
        return await self.get(order_id), changed

    async def _items(self, order_id: uuid.UUID) -> list[OrderLine]:
        rows = await self._conn.fetch(
            "SELECT product_id, quantity, unit_price_cents FROM order_items "
            "WHERE order_id = $1 ORDER BY product_id",
            order_id,
        )
        return [OrderLine(r["product_id"], r["quantity"], r["unit_price_cents"]) for r in rows]
