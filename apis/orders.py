"""Orders' HTTP front: create from a ledger entry, read, cancel and confirm."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

import asyncpg
from fastapi import APIRouter, Depends, FastAPI, Response
from pydantic import BaseModel, ConfigDict, Field

from apis.saga_front import create_front, pool
from domain.orders.models import Order, OrderLine, OrderStatus
from domain.orders.repository import OrderRepository
from saga.settings import PlatformSettings

router = APIRouter(prefix="/orders")
Pool = Annotated[asyncpg.Pool, Depends(pool)]


class OrderItemIn(BaseModel):
    """One priced line."""

    model_config = ConfigDict(extra="forbid")

    product_id: str = Field(min_length=1, max_length=64)
    quantity: int = Field(strict=True, ge=1, le=1_000_000)
    unit_price_cents: int = Field(strict=True, ge=0)


class OrderIn(BaseModel):
    """Body of POST /orders: the ledger entry the order is created from."""

    model_config = ConfigDict(extra="forbid")

    order_ledger_id: uuid.UUID
    customer_id: str = Field(min_length=1, max_length=64)
    items: list[OrderItemIn] = Field(min_length=1, max_length=100)
    currency: str = Field(default="USD", pattern="^[A-Z]{3}$")


def _order(order: Order) -> dict[str, Any]:
    return {
        "order_id": str(order.order_id),
        "order_ledger_id": str(order.order_ledger_id),
        "customer_id": order.customer_id,
        "status": order.status.value,
        "total_cents": order.total_cents,
        "currency": order.currency,
        "items": [
            {
                "product_id": item.product_id,
                "quantity": item.quantity,
                "unit_price_cents": item.unit_price_cents,
                "line_total_cents": item.line_total_cents,
            }
            for item in order.items
        ],
        "created_at": order.created_at.isoformat(),
        "updated_at": order.updated_at.isoformat(),
    }


@router.post("", status_code=201)
async def create_order(body: OrderIn, db: Pool, response: Response) -> dict[str, Any]:
    """Create the order of a ledger entry; the same ledger entry again answers 200."""
    lines = [OrderLine(i.product_id, i.quantity, i.unit_price_cents) for i in body.items]
    async with db.acquire() as conn, conn.transaction():
        order, created = await OrderRepository(conn).create_from_ledger(
            body.order_ledger_id, body.customer_id, lines, body.currency
        )
    if not created:
        response.status_code = 200
    return _order(order)


@router.get("/{order_id}")
async def get_order(order_id: uuid.UUID, db: Pool) -> dict[str, Any]:
    """An order with its items."""
    async with db.acquire() as conn:
        return _order(await OrderRepository(conn).get(order_id))


@router.put("/{order_id}/cancel")
async def cancel_order(order_id: uuid.UUID, db: Pool) -> dict[str, Any]:
    """Cancel (compensation); cancelling a cancelled order answers the same."""
    return await _move(db, order_id, OrderStatus.CANCELLED)


@router.put("/{order_id}/confirm")
async def confirm_order(order_id: uuid.UUID, db: Pool) -> dict[str, Any]:
    """Confirm (the saga's last step); confirming again answers the same."""
    return await _move(db, order_id, OrderStatus.CONFIRMED)


async def _move(db: asyncpg.Pool, order_id: uuid.UUID, target: OrderStatus) -> dict[str, Any]:
    async with db.acquire() as conn, conn.transaction():
        order, _ = await OrderRepository(conn).move_to(order_id, target)
    return _order(order)


def create_app(settings: PlatformSettings | None = None) -> FastAPI:
    """The orders front."""
    app = create_front("orders", settings or PlatformSettings())
    app.include_router(router)
    return app
